// fashionlab-fuzz: fuzzing of everything FashionLab reads from outside. Parser targets mutate the bytes of
// valid files; loader targets write well-formed checkpoints, model files, run directories and study files whose
// meaning lies and drive the real loaders; text targets feed random Unicode to the escaper and the name check.
//   fashionlab-fuzz [--inputs N] [--seed S] [TARGET…]      (fashionlab-fuzz --list names the targets)
// scripts/fuzz.sh builds it with AddressSanitizer and runs a million inputs per target.
import FashionCore
import FashionEngine
import FashionFuzzing
import Foundation

// One thread each: a pass per core runs side by side, and a short input costs no thread hand-offs.
Threads.count = 1
BLAS.shared.setThreadCount(1)

var inputs = 100_000
var seed: UInt64 = 1
var names: [String] = []
var arguments = CommandLine.arguments.dropFirst()
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fashionlab-fuzz: \(message)\n".utf8))
    exit(2)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--inputs": inputs = arguments.popFirst().flatMap(Int.init) ?? -1
    case "--seed": seed = arguments.popFirst().flatMap(UInt64.init) ?? 0
    case "--list":
        for target in FuzzTargets.all { print(target.name.padding(toLength: 15, withPad: " ", startingAt: 0), target.summary) }
        exit(0)
    default: names.append(argument)
    }
}
guard inputs > 0 else { fail("--inputs must be a positive integer") }
let targets = names.isEmpty ? FuzzTargets.all : names.map { name -> FuzzTarget in
    guard let target = FuzzTargets.named(name) else {
        fail("unknown target '\(name)' (known: \(FuzzTargets.all.map(\.name).joined(separator: " ")))")
    }
    return target
}
var broken = 0
for target in targets {
    let (name, total) = (target.name, inputs)
    let report = target.run(inputs: inputs, seed: seed) { done in
        FileHandle.standardError.write(Data("\(name): \(done) of \(total) inputs\n".utf8))
    }
    print(report)
    FileHandle.standardOutput.synchronizeFile()
    broken += report.violations
}
exit(broken == 0 ? 0 : 1)
