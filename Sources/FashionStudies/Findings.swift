import Foundation
import FashionCharts
import FashionEngine
import FashionTraining

/// Findings written from the measured numbers of a study — never in advance.
public enum Findings {
    /// One to three sentences about `result`, in `language`.
    public static func write(_ result: StudyResult, language l: Language) -> [String] {
        let runs = result.runs
        guard !runs.isEmpty else { return [] }
        var sentences: [String] = []
        let epochs = runs.map { $0.history.epochs.count }.max() ?? 0
        if result.hasSeeds { return seedFindings(result, language: l) }

        func train(_ r: RunResult) -> Double? { r.history.last?.trainAccuracy }
        func validation(_ r: RunResult) -> Double? { r.history.last?.validationAccuracy }
        func learned(_ r: RunResult) -> Bool { !r.history.diverged && (train(r) ?? 0) >= 0.3 }
        func name(_ r: RunResult) -> String { l.runLabel(r.run.label) }

        switch result.study.kind {
        case .scaling:
            guard let unscaled = runs.first(where: { !$0.run.config.scale }), let scaled = runs.first(where: { $0.run.config.scale }) else { break }
            sentences.append(l.t(
                "After \(epochs) epochs, scaled inputs reached \(l.percent(train(scaled))) training accuracy and unscaled inputs \(l.percent(train(unscaled))).",
                "Sau \(epochs) epoch, đầu vào đã chuẩn hóa đạt độ chính xác huấn luyện \(l.percent(train(scaled))), đầu vào chưa chuẩn hóa \(l.percent(train(unscaled)))."))
            if !learned(unscaled) && learned(scaled) {
                sentences.append(l.t(
                    "Unscaled, the network did not learn (chance is 10%): inputs up to 255 make the gradients of the first layer about 255 times larger, so lr 0.01 overshoots at every step.",
                    "Khi chưa chuẩn hóa, mạng không học được (ngẫu nhiên là 10%): đầu vào tới 255 làm gradient của lớp đầu lớn gấp khoảng 255 lần, nên lr 0,01 vượt quá ở mỗi bước."))
            } else {
                let gain = ((train(scaled) ?? 0) - (train(unscaled) ?? 0)) * 100
                sentences.append(l.t("Scaling changed training accuracy by \(l.decimal(gain, digits: 1)) points.",
                                     "Chuẩn hóa làm độ chính xác huấn luyện thay đổi \(l.decimal(gain, digits: 1)) điểm."))
            }
        case .batchSize:
            let sorted = runs.sorted { $0.run.config.batchSize < $1.run.config.batchSize }
            guard let small = sorted.first, let large = sorted.last, small.run.config.batchSize != large.run.config.batchSize else { break }
            let trainCount = result.trainingImages
            func updates(_ r: RunResult) -> Int { (trainCount + r.run.config.batchSize - 1) / r.run.config.batchSize }
            sentences.append(l.t(
                "Batch size \(l.integer(small.run.config.batchSize)) reached \(l.percent(validation(small))) validation accuracy after \(epochs) epochs, batch size \(l.integer(large.run.config.batchSize)) \(l.percent(validation(large))): \(l.integer(updates(small))) against \(l.integer(updates(large))) weight updates per epoch.",
                "Batch \(l.integer(small.run.config.batchSize)) đạt độ chính xác kiểm định \(l.percent(validation(small))) sau \(epochs) epoch, batch \(l.integer(large.run.config.batchSize)) đạt \(l.percent(validation(large))): \(l.integer(updates(small))) so với \(l.integer(updates(large))) lần cập nhật trọng số mỗi epoch."))
            let smallEpoch = small.history.epochs.map(\.trainSeconds).reduce(0, +) / Double(max(1, small.history.epochs.count))
            let largeEpoch = large.history.epochs.map(\.trainSeconds).reduce(0, +) / Double(max(1, large.history.epochs.count))
            sentences.append(l.t(
                "A training epoch took \(l.seconds(smallEpoch)) with the small batches and \(l.seconds(largeEpoch)) with the large ones.",
                "Một epoch huấn luyện mất \(l.seconds(smallEpoch)) với batch nhỏ và \(l.seconds(largeEpoch)) với batch lớn."))
        case .optimizer:
            guard let sgd = runs.first(where: { $0.run.config.optimizer == .sgd }), let adam = runs.first(where: { $0.run.config.optimizer != .sgd }) else { break }
            sentences.append(l.t(
                "After \(epochs) epochs SGD reached \(l.percent(validation(sgd))) validation accuracy (\(l.percent(train(sgd))) training), Adam \(l.percent(validation(adam))) (\(l.percent(train(adam))) training).",
                "Sau \(epochs) epoch, SGD đạt độ chính xác kiểm định \(l.percent(validation(sgd))) (huấn luyện \(l.percent(train(sgd)))), Adam đạt \(l.percent(validation(adam))) (huấn luyện \(l.percent(train(adam))))."))
            for r in [sgd, adam] {
                let best = r.history.epochs.max { ($0.validationAccuracy ?? 0) < ($1.validationAccuracy ?? 0) }
                if let best, best.epoch < r.history.epochs.count, (best.validationAccuracy ?? 0) - (validation(r) ?? 0) > 0.003 {
                    sentences.append(l.t(
                        "\(name(r)) was best at epoch \(best.epoch) (\(l.percent(best.validationAccuracy))) and ended lower: its validation accuracy fluctuates from epoch to epoch.",
                        "\(name(r)) tốt nhất ở epoch \(best.epoch) (\(l.percent(best.validationAccuracy))) rồi kết thúc thấp hơn: độ chính xác kiểm định dao động giữa các epoch."))
                }
            }
        case .learningRate, .weights:
            let ranked = runs.filter(learned).sorted { (validation($0) ?? 0) > (validation($1) ?? 0) }
            if let best = ranked.first {
                sentences.append(l.t("\(name(best)) gave the best validation accuracy after \(epochs) epochs: \(l.percent(validation(best))).",
                                     "\(name(best)) cho độ chính xác kiểm định tốt nhất sau \(epochs) epoch: \(l.percent(validation(best)))."))
            }
            for r in runs where !learned(r) {
                sentences.append(r.history.diverged
                    ? l.t("\(name(r)) diverged: its loss became NaN or infinite in epoch \(r.history.epochs.count).",
                          "\(name(r)) phân kỳ: mất mát thành NaN hoặc vô hạn ở epoch \(r.history.epochs.count).")
                    : l.t("\(name(r)) did not learn: it ended at \(l.percent(train(r))) training accuracy (chance is 10%) — the steps are too large.",
                          "\(name(r)) không học được: kết thúc ở độ chính xác huấn luyện \(l.percent(train(r))) (ngẫu nhiên là 10%) — bước quá lớn."))
            }
            if let slowest = runs.filter(learned).min(by: { $0.run.config.learningRate < $1.run.config.learningRate }),
               slowest.run.config.learningRate < (ranked.first?.run.config.learningRate ?? 0),
               slowest.history.epochs.count >= 2 {
                let last = slowest.history.epochs[slowest.history.epochs.count - 1].validationAccuracy ?? 0
                let previous = slowest.history.epochs[slowest.history.epochs.count - 2].validationAccuracy ?? 0
                sentences.append(l.t(
                    "\(name(slowest)) reached \(l.percent(validation(slowest))) and was still improving (\(l.decimal((last - previous) * 100, digits: 1)) points in the last epoch): too small a step for \(epochs) epochs.",
                    "\(name(slowest)) đạt \(l.percent(validation(slowest))) và vẫn đang cải thiện (\(l.decimal((last - previous) * 100, digits: 1)) điểm ở epoch cuối): bước quá nhỏ cho \(epochs) epoch."))
            }
            if result.study.showsWeights, let widths = firstLayerSpread(runs), let widest = widths.max(by: { $0.1 < $1.1 }), let narrowest = widths.min(by: { $0.1 < $1.1 }) {
                let initial = 1 / (784.0.squareRoot() * 3.0.squareRoot())
                sentences.append(l.t(
                    "The first layer's weights spread to a standard deviation of \(l.decimal(widest.1, digits: 3)) with \(name(widest.0)) but stayed at \(l.decimal(narrowest.1, digits: 3)) with \(name(narrowest.0)) (\(l.decimal(initial, digits: 3)) at initialisation).",
                    "Trọng số lớp đầu trải rộng tới độ lệch chuẩn \(l.decimal(widest.1, digits: 3)) với \(name(widest.0)) nhưng chỉ \(l.decimal(narrowest.1, digits: 3)) với \(name(narrowest.0)) (\(l.decimal(initial, digits: 3)) lúc khởi tạo)."))
            }
        case .learningRateLong:
            guard let run = runs.first else { break }
            let at5 = run.history.epochs.count >= 5 ? run.history.epochs[4].validationAccuracy : nil
            sentences.append(l.t(
                "\(name(run)) reached \(l.percent(validation(run))) validation accuracy after \(run.history.epochs.count) epochs (\(l.percent(at5)) after 5).",
                "\(name(run)) đạt độ chính xác kiểm định \(l.percent(validation(run))) sau \(run.history.epochs.count) epoch (\(l.percent(at5)) sau 5 epoch)."))
        case .custom:
            let ranked = runs.sorted { (validation($0) ?? -1) > (validation($1) ?? -1) }
            if let best = ranked.first, let worst = ranked.last, ranked.count > 1 {
                sentences.append(l.t("Best: \(name(best)) with \(l.percent(validation(best))) validation accuracy; lowest: \(name(worst)) with \(l.percent(validation(worst))).",
                                     "Tốt nhất: \(name(best)) với độ chính xác kiểm định \(l.percent(validation(best))); thấp nhất: \(name(worst)) với \(l.percent(validation(worst)))."))
            }
        }
        return sentences
    }

    /// Standard deviation of the first layer's weights per run (finite values only).
    static func firstLayerSpread(_ runs: [RunResult]) -> [(RunResult, Double)]? {
        let spreads = runs.compactMap { run -> (RunResult, Double)? in
            guard let weights = run.model?.parameters.first?.value.toArray().filter(\.isFinite), !weights.isEmpty else { return nil }
            let mean = weights.reduce(0.0) { $0 + Double($1) } / Double(weights.count)
            let variance = weights.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(weights.count)
            return (run, variance.squareRoot())
        }
        return spreads.count >= 2 ? spreads : nil
    }

    /// With several seeds per setting: the settings by mean validation accuracy, and whether the best one's lead
    /// over the next is larger than what the seeds alone make (their ranges do not overlap) or within it.
    static func seedFindings(_ result: StudyResult, language l: Language) -> [String] {
        let ranked = result.groups.compactMap { group in group.validationAccuracy.map { (group, $0) } }.sorted { $0.1.mean > $1.1.mean }
        guard let (best, top) = ranked.first else { return [] }
        let seeds = best.runs.count
        var sentences = [l.t(
            "Over \(seeds) seeds, \(l.runLabel(best.label)) reached the highest mean validation accuracy: \(l.spreadOfPercent(top)).",
            "Qua \(seeds) seed, \(l.runLabel(best.label)) đạt độ chính xác kiểm định trung bình cao nhất: \(l.spreadOfPercent(top)).")]
        if ranked.count > 1 {
            let (next, second) = ranked[1]
            let gap = l.decimal((top.mean - second.mean) * 100, digits: 1)
            sentences.append(top.overlaps(second)
                ? l.t("Its lead over \(l.runLabel(next.label)) (\(l.spreadOfPercent(second))) is \(gap) points, within the spread of the seeds: their ranges overlap, so these runs do not tell the two apart.",
                      "Khoảng cách với \(l.runLabel(next.label)) (\(l.spreadOfPercent(second))) là \(gap) điểm, nằm trong độ dao động giữa các seed: các khoảng chồng lên nhau, nên các lần chạy này chưa phân biệt được hai thiết lập.")
                : l.t("Its lead over \(l.runLabel(next.label)) (\(l.spreadOfPercent(second))) is \(gap) points, larger than the spread of the seeds: no seed of one comes near a seed of the other.",
                      "Khoảng cách với \(l.runLabel(next.label)) (\(l.spreadOfPercent(second))) là \(gap) điểm, lớn hơn độ dao động giữa các seed: không seed nào của thiết lập này gần seed nào của thiết lập kia."))
        }
        return sentences
    }
}
