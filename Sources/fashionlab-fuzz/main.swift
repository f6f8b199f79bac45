// fashionlab-fuzz: mutation fuzzing of every parser that reads a user's file.
//   fashionlab-fuzz [--inputs N] [--seed S] [TARGET…]     targets: idx gzip safetensors png pgm study
// scripts/fuzz.sh builds it with AddressSanitizer and runs a million inputs per parser.
import FashionFuzzing
import Foundation

var inputs = 100_000
var seed: UInt64 = 1
var names: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--inputs": inputs = arguments.popFirst().flatMap(Int.init) ?? -1
    case "--seed": seed = arguments.popFirst().flatMap(UInt64.init) ?? 0
    default: names.append(argument)
    }
}
guard inputs > 0 else {
    FileHandle.standardError.write(Data("fashionlab-fuzz: --inputs must be a positive integer\n".utf8))
    exit(2)
}
let targets = names.isEmpty ? FuzzTargets.all : names.map { name -> FuzzTarget in
    guard let target = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("fashionlab-fuzz: unknown target '\(name)' (known: idx gzip safetensors png pgm study)\n".utf8))
        exit(2)
    }
    return target
}
for target in targets {
    print(fuzz(target, inputs: inputs, seed: seed))
}
