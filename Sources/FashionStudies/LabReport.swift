import Foundation
import FashionCharts
import FashionData
import FashionTraining

/// The lab's report: a section for the dataset, one per study (what it varies and why, the finding,
/// the curves, the histograms where they matter, a table), a summary of all runs, the environment.
public enum LabReport {
    /// What PyTorch 2.13 (CPU, seed 0) gives on the notebook's runs: final train / validation accuracy
    /// (GUIDE §2), shown beside FashionLab's numbers for comparison.
    public static let pytorchReference: [String: (train: Double, validation: Double?)] = [
        "scaling/unscaled": (0.112, nil), "scaling/scaled": (0.855, nil),
        "batch-size/batch 32": (0.872, 0.850), "batch-size/batch 10,000": (0.802, 0.793),
        "optimizer/SGD": (0.874, 0.856), "optimizer/Adam": (0.873, 0.849),
        "learning-rate/lr 0.1": (0.221, 0.220), "learning-rate/lr 0.001": (0.902, 0.878), "learning-rate/lr 0.00001": (0.834, 0.822),
        "learning-rate-unscaled/lr 0.1": (0.100, 0.100), "learning-rate-unscaled/lr 0.001": (0.852, 0.834),
        "learning-rate-unscaled/lr 0.00001": (0.866, 0.833),
    ]

    /// One study as a report section.
    public static func section(_ result: StudyResult, language l: Language) -> ReportSection {
        let title = l.studyTitle(result.study)
        var section = ReportSection(id: result.study.name, heading: title)
        section.paragraphs = l.studyDescription(result.study).map { .text($0) }
        section.paragraphs += Findings.write(result, language: l).map { .finding($0) }
        let seeds = result.hasSeeds
        // With several seeds per setting the weights shown are each setting's first seed's.
        let shown = seeds ? result.groups.map { $0.runs[0] } : result.runs
        let runs = shown.map { RunForReport(label: l.runLabel($0.run.label), history: $0.history, model: $0.model) }
        if seeds {
            // Each setting's mean curve, its seeds' range as a band.
            var chart = CurvesChart(title: title, runs: result.groups.map(\.curves))
            chart.words = l.chartWords
            section.figures.append(.svg(chart.svg(), caption: l.curvesCaption + " " + l.t(
                "Each line is the mean over the setting's seeds; the band (a bar for a single epoch) is their range, minimum to maximum.",
                "Mỗi đường là trung bình theo các seed của thiết lập; dải màu (một vạch khi chỉ có một epoch) là khoảng của chúng, từ nhỏ nhất đến lớn nhất.")))
        } else {
            section.figures.append(.svg(RunCharts.curves(runs, title: title, words: l.chartWords), caption: l.curvesCaption))
        }
        if result.study.showsWeights, let weights = RunCharts.weights(runs, title: l.t("Weights after training", "Trọng số sau khi huấn luyện") + " — " + title, words: l.chartWords) {
            section.figures.append(.svg(weights, caption: l.weightsCaption))
        }
        if seeds {
            section.table = (l.seedTableHeaders, result.groups.map { group in
                [l.runLabel(group.label), group.seeds.map(String.init).joined(separator: ", "), l.spreadOfPercent(group.trainAccuracy),
                 l.spreadOfPercent(group.validationAccuracy), l.spreadOfDecimal(group.validationLoss), l.seconds(group.runs.map(\.seconds).reduce(0, +))]
            })
            return section
        }
        section.table = (l.tableHeaders, result.runs.map { row($0, l) })
        return section
    }

    static func row(_ r: RunResult, _ l: Language) -> [String] {
        let last = r.history.last
        return [l.runLabel(r.run.label), String(r.history.epochs.count),
                last.map { l.decimal($0.trainLoss, digits: 4) } ?? "–", l.percent(last?.trainAccuracy),
                last?.validationLoss.map { l.decimal($0, digits: 4) } ?? "–", l.percent(last?.validationAccuracy),
                l.seconds(r.seconds), l.status(r)]
    }

    /// Rows of the all-runs summary (also printed on the terminal).
    public static func summaryRows(_ results: [StudyResult], language l: Language) -> [[String]] {
        results.flatMap { result in
            result.runs.map { r in
                // The reference holds for the notebook's own settings only (not with --epochs and the like).
                let isNotebookRun = BuiltinStudies.named(result.study.name)?.runs.contains(r.run) ?? false
                let reference = isNotebookRun ? pytorchReference["\(result.study.name)/\(r.run.label)"] : nil
                let referenceText = reference.map { "\(l.percent($0.train)) / \(l.percent($0.validation))" } ?? "–"
                return [result.study.name, l.runLabel(r.run.label), l.percent(r.history.last?.trainAccuracy),
                        l.percent(r.history.last?.validationAccuracy), referenceText, l.seconds(r.seconds)]
            }
        }
    }

    /// The whole page.
    public static func page(data: FashionMNISTData?, samplesPNG: [UInt8]?, results: [StudyResult],
                            language l: Language, device: String = "CPU") -> ReportPage {
        let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
        let runCount = results.reduce(0) { $0 + $1.runs.count }
        let epochCount = results.reduce(0) { $0 + $1.runs.reduce(0) { $0 + $1.history.epochs.count } }
        let runSeconds = results.reduce(0) { $0 + $1.runs.reduce(0) { $0 + $1.seconds } }
        var page = ReportPage(
            title: "FashionLab — " + l.reportTitle,
            subtitle: l.t("\(runCount) runs, \(epochCount) epochs, \(l.seconds(runSeconds)) of training and evaluation · \(date) · \(MachineDescription.cpuModel)",
                          "\(runCount) lần chạy, \(epochCount) epoch, \(l.seconds(runSeconds)) huấn luyện và đánh giá · \(date) · \(MachineDescription.cpuModel)"),
            language: l.code)

        if let data {
            var section = ReportSection(id: "dataset", heading: l.datasetHeading)
            section.paragraphs = [
                .text(l.t("Training images \(data.train.imageShape), labels \(data.train.labelShape); test images \(data.test.imageShape), labels \(data.test.labelShape). Pixels are bytes 0…255.",
                          "Ảnh huấn luyện \(data.train.imageShape), nhãn \(data.train.labelShape); ảnh kiểm tra \(data.test.imageShape), nhãn \(data.test.labelShape). Điểm ảnh là byte 0…255.")),
                .text(l.t("A \(data.train.uniqueLabels.count)-class classification problem with \(l.integer(data.train.classCounts[0])) training and \(l.integer(data.test.classCounts[0])) test images per class: ",
                          "Bài toán phân loại \(data.train.uniqueLabels.count) lớp với \(l.integer(data.train.classCounts[0])) ảnh huấn luyện và \(l.integer(data.test.classCounts[0])) ảnh kiểm tra mỗi lớp: ")
                      + FashionMNIST.classNames.enumerated().map { "\($0) \($1)" }.joined(separator: ", ") + "."),
                .text(l.t("Every run trains the notebook's MLP 784 → 1000 → ReLU → 10 with cross-entropy and PyTorch's initialisation; the 10,000 test images are the validation set, as in the notebook (so the best epoch chosen by them is not an unbiased test result; `train --val-split N` holds out training images instead).",
                          "Mỗi lần chạy huấn luyện MLP 784 → 1000 → ReLU → 10 của notebook với hàm mất mát cross-entropy và cách khởi tạo của PyTorch; 10.000 ảnh kiểm tra là tập kiểm định, như trong notebook (vì vậy epoch tốt nhất chọn theo chúng không phải là kết quả kiểm tra khách quan; `train --val-split N` tách riêng ảnh huấn luyện để kiểm định).")),
            ]
            if let samplesPNG { section.figures.append(.png(samplesPNG, alt: l.samplesCaption, caption: l.samplesCaption)) }
            page.sections.append(section)
        }
        var summary = ReportSection(id: "summary", heading: l.summaryHeading)
        summary.table = (l.summaryHeaders, summaryRows(results, language: l))
        summary.paragraphs = [.text(l.t(
            "Final epoch of each run. The PyTorch column is what PyTorch 2.13 (CPU, seed 0) gives on the same runs; single runs vary by a point or two, diverging runs by more.",
            "Epoch cuối của mỗi lần chạy. Cột PyTorch là kết quả của PyTorch 2.13 (CPU, seed 0) trên cùng các lần chạy; mỗi lần chạy dao động một hai điểm, các lần phân kỳ dao động nhiều hơn."))]
        page.sections.append(summary)
        page.sections += results.map { section($0, language: l) }
        page.sections.append(RunCharts.environmentSection(device: device, heading: l.environmentHeading))
        return page
    }

    /// A page for one study (`fashionlab study`).
    public static func studyPage(_ result: StudyResult, language l: Language, device: String = "CPU") -> ReportPage {
        var page = ReportPage(title: "FashionLab — " + l.studyTitle(result.study), subtitle: result.study.name, language: l.code)
        page.sections = [section(result, language: l), RunCharts.environmentSection(device: device, heading: l.environmentHeading)]
        return page
    }

    /// The summary as aligned text columns for the terminal.
    public static func terminalTable(_ results: [StudyResult], language l: Language) -> String {
        let rows = [l.summaryHeaders] + summaryRows(results, language: l)
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.enumerated().map { index, row in
            let line = row.enumerated().map { column, cell in
                cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
            return index == 0 ? line + "\n" + String(repeating: "-", count: line.count) : line
        }.joined(separator: "\n")
    }
}
