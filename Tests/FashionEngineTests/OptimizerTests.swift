import Foundation
import Testing
import FashionEngine

/// The optimisers against PyTorch's update rules, written out in Double for a few steps.
@Suite struct OptimizerTests {
    let gradients: [[Double]] = [[0.5, -1, 0, 2e-3], [0.1, 0.3, -0.7, 0], [-0.2, 0, 1.5, 4]]
    let start: [Double] = [1, -2, 0.5, 3]

    func run(_ optimizer: Optimizer) -> [Float] {
        let parameter = Parameter(name: "w", value: Tensor(shape: [4], values: start.map(Float.init)))
        for g in gradients {
            parameter.zeroGradient()
            parameter.gradient.copy(from: g.map(Float.init))
            optimizer.step([parameter])
        }
        return parameter.value.toArray()
    }

    func expectClose(_ actual: [Float], _ expected: [Double], _ tolerance: Double = 1e-6) {
        for (a, e) in zip(actual, expected) {
            #expect(abs(Double(a) - e) <= tolerance * max(1, abs(e)), "\(a) vs \(e)")
        }
    }

    @Test(arguments: [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.01, true), (0.0, 0.1, false)])
    func sgd(momentum: Double, weightDecay: Double, nesterov: Bool) {
        let lr = 0.1
        var p = start, b = [Double](repeating: 0, count: 4)
        for (step, g0) in gradients.enumerated() {
            for i in 0..<4 {
                let g = g0[i] + weightDecay * p[i]
                if momentum == 0 {
                    p[i] -= lr * g
                } else {
                    b[i] = step == 0 ? g : momentum * b[i] + g
                    p[i] -= lr * (nesterov ? g + momentum * b[i] : b[i])
                }
            }
        }
        expectClose(run(SGD(learningRate: Float(lr), momentum: Float(momentum), weightDecay: Float(weightDecay), nesterov: nesterov)), p)
    }

    @Test(arguments: [(0.0, false), (0.1, false), (0.1, true)])
    func adam(weightDecay: Double, decoupled: Bool) {
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8
        var p = start, m = [Double](repeating: 0, count: 4), v = m
        for (index, g0) in gradients.enumerated() {
            let t = Double(index + 1)
            for i in 0..<4 {
                var g = g0[i]
                if decoupled { p[i] *= 1 - lr * weightDecay } else { g += weightDecay * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p[i] -= (lr / (1 - pow(b1, t))) * m[i] / (v[i].squareRoot() / (1 - pow(b2, t)).squareRoot() + eps)
            }
        }
        expectClose(run(Adam(learningRate: Float(lr), weightDecay: Float(weightDecay), decoupled: decoupled)), p, 1e-5)
    }

    @Test func optimiserStateRoundTrips() throws {
        let adam = Adam(learningRate: 0.01)
        _ = run(adam)
        let copy = Adam(learningRate: 0.01)
        let parameters = [Parameter(name: "w", value: Tensor(shape: [4]))]
        try copy.restore(state: adam.state, stepCount: adam.stepCount, parameters: parameters)
        #expect(copy.stepCount == 3)
        #expect(Set(copy.state.keys) == ["w.exp_avg", "w.exp_avg_sq"])
        #expect(throws: OptimizerStateError.self) { try SGD(learningRate: 0.1).restore(state: adam.state, stepCount: 3, parameters: parameters) }
    }

    /// A checkpoint whose optimiser state lies about its shape (or names a parameter the model lacks) is refused
    /// before a step could write past the end of a buffer.
    @Test func stateThatDoesNotFitItsParameterIsRefused() throws {
        let parameters = [Parameter(name: "w", value: Tensor(shape: [4]))]
        let cases: [([String: Tensor], String)] = [
            (["w.exp_avg": Tensor(shape: [40]), "w.exp_avg_sq": Tensor(shape: [4])], "'w.exp_avg' has shape [40], but parameter w has [4]"),
            (["w.exp_avg": Tensor(shape: [2, 2])], "'w.exp_avg' has shape [2, 2], but parameter w has [4]"),
            (["v.exp_avg": Tensor(shape: [4])], "'v.exp_avg' belongs to no parameter of the model"),
        ]
        for (state, message) in cases {
            do {
                try Adam().restore(state: state, stepCount: 1, parameters: parameters)
                Issue.record("accepted \(state.keys.sorted())")
            } catch let error as OptimizerStateError {
                #expect(error.description.contains(message), "\(error)")
            }
        }
        #expect(throws: OptimizerStateError.self) {
            try SGD(learningRate: 0.1, momentum: 0.9).restore(state: ["w.momentum_buffer": Tensor(shape: [5])], stepCount: 1, parameters: parameters)
        }
    }

    @Test func schedules() {
        #expect(LearningRateSchedule.constant.rate(base: 0.1, epoch: 3, epochs: 5) == 0.1)
        #expect(abs(LearningRateSchedule.step(every: 2, gamma: 0.5).rate(base: 0.1, epoch: 5, epochs: 10) - 0.025) < 1e-7)
        let cosine = LearningRateSchedule.cosine(minimum: 0)
        #expect(cosine.rate(base: 0.1, epoch: 0, epochs: 10) == 0.1)
        #expect(abs(cosine.rate(base: 0.1, epoch: 5, epochs: 10) - 0.05) < 1e-7)
        #expect(LearningRateSchedule(parsing: "step:2:0.5") == .step(every: 2, gamma: 0.5))
        #expect(LearningRateSchedule(parsing: "cosine") == .cosine(minimum: 0))
        #expect(LearningRateSchedule(parsing: "step:0:0.5") == nil)
        #expect(LearningRateSchedule(parsing: "linear") == nil)
        #expect(LearningRateSchedule(parsing: "onecycle") == .oneCycle(warmup: 0.3))
        #expect(LearningRateSchedule(parsing: "onecycle:0.25") == .oneCycle(warmup: 0.25))
        #expect(LearningRateSchedule(parsing: "onecycle:1.5") == nil)
    }

    /// PyTorch 2.13: `OneCycleLR(Adam(lr=…), max_lr=0.004, total_steps=20, cycle_momentum=False)`, the rate
    /// before each of the 20 steps.
    @Test func oneCycleMatchesPyTorch() {
        let pytorch: [Float] = [0.00016, 0.000526687371, 0.00148668737, 0.00267331263, 0.00363331263, 0.004, 0.00394985602,
                                0.00380193853, 0.00356366471, 0.00324698262, 0.00286777201, 0.00244504809, 0.002000008,
                                0.00155496791, 0.00113224399, 0.000753033384, 0.00043635129, 0.000198077472, 5.01599751e-05, 1.6e-08]
        let schedule = LearningRateSchedule.oneCycle(warmup: 0.3)
        #expect(schedule.isPerStep && !LearningRateSchedule.cosine(minimum: 0).isPerStep)
        for (step, expected) in pytorch.enumerated() {
            let rate = schedule.rate(base: 0.004, step: step, steps: 20, epochs: 4)
            #expect(abs(rate - expected) <= 1e-6 * 0.004, "step \(step): \(rate) vs PyTorch \(expected)")
        }
    }
}
