import Foundation
import FashionCharts

/// The lab report's and the terminal summary's phrases, in each `Language` (the one translation mechanism:
/// FashionCharts' `Language.t`).
extension Language {
    /// The charts' words in this language.
    public var chartWords: ChartWords { ChartWords(self) }

    // MARK: Labels and headings

    func runLabel(_ label: String) -> String {
        guard self == .vietnamese else { return label }
        return label.replacingOccurrences(of: "unscaled", with: "chưa chuẩn hóa")
            .replacingOccurrences(of: "scaled", with: "đã chuẩn hóa")
            .replacingOccurrences(of: "epochs", with: "epoch")
            .replacingOccurrences(of: "batch 10,000", with: "batch 10.000")
    }

    var reportTitle: String { t("Fashion-MNIST lab report", "Báo cáo thực hành Fashion-MNIST") }
    var datasetHeading: String { t("The dataset", "Bộ dữ liệu") }
    var summaryHeading: String { t("All runs at a glance", "Tổng quan các lần chạy") }
    public var environmentHeading: String { t("Environment", "Môi trường") }
    var tableHeaders: [String] {
        t(["run", "epochs", "train loss", "train acc", "val loss", "val acc", "time", "status"],
          ["lần chạy", "epoch", "mất mát huấn luyện", "độ chính xác huấn luyện", "mất mát kiểm định", "độ chính xác kiểm định", "thời gian", "trạng thái"])
    }
    var summaryHeaders: [String] {
        t(["study", "run", "train acc", "val acc", "PyTorch reference (train / val)", "time"],
          ["nghiên cứu", "lần chạy", "độ chính xác huấn luyện", "độ chính xác kiểm định", "PyTorch (tham chiếu)", "thời gian"])
    }
    func status(_ result: RunResult) -> String {
        if result.history.diverged { return t("diverged", "phân kỳ") }
        return result.reused ? t("finished (reused)", "hoàn tất (dùng lại)") : t("finished", "hoàn tất")
    }
    var curvesCaption: String {
        t("Loss (top) and accuracy (bottom) after each epoch: training as dots, validation as a line.",
          "Mất mát (trên) và độ chính xác (dưới) sau mỗi epoch: huấn luyện là chấm, kiểm định là đường.")
    }
    var weightsCaption: String {
        t("Each layer's weights and biases after the last epoch; shared bins, so the widths compare.",
          "Trọng số và bias của từng lớp sau epoch cuối; các cột dùng chung khoảng chia để so sánh độ rộng.")
    }
    var samplesCaption: String {
        t("Ten random training images of each class, one row per class (label order, top to bottom).",
          "Mười ảnh huấn luyện ngẫu nhiên của mỗi lớp, mỗi hàng một lớp (theo thứ tự nhãn, từ trên xuống).")
    }

    public func studyTitle(_ study: Study) -> String {
        switch study.kind {
        case .scaling: t("Scaling the inputs", "Chuẩn hóa đầu vào")
        case .batchSize: t("Batch size", "Kích thước batch")
        case .optimizer: t("SGD or Adam", "SGD hay Adam")
        case .learningRate: study.runs.first?.config.scale == false
            ? t("Learning rate, unscaled inputs", "Tốc độ học, đầu vào chưa chuẩn hóa")
            : t("Learning rate, scaled inputs", "Tốc độ học, đầu vào đã chuẩn hóa")
        case .weights: t("Weight distributions", "Phân bố trọng số")
        case .learningRateLong: t("The smallest learning rate, 100 epochs", "Tốc độ học nhỏ nhất, 100 epoch")
        case .custom: t("Study: \(study.name)", "Nghiên cứu: \(study.name)")
        }
    }

    /// What the study varies, and why that matters.
    public func studyDescription(_ study: Study) -> [String] {
        let epochs = study.runs.first?.config.epochs ?? 0
        switch study.kind {
        case .scaling:
            return [t("Pixels fed as raw values 0…255 or divided by 255 (0…1); SGD, lr 0.01, batch 32, \(epochs) epochs.",
                      "Điểm ảnh đưa vào dạng thô 0…255 hoặc chia cho 255 (0…1); SGD, lr 0,01, batch 32, \(epochs) epoch."),
                    t("Large inputs make the first layer's outputs and gradients large, so the same learning rate takes far bigger steps.",
                      "Đầu vào lớn làm đầu ra và gradient của lớp đầu tiên lớn, nên cùng một tốc độ học cho bước cập nhật lớn hơn nhiều.")]
        case .batchSize:
            return [t("Batch size 32 against 10,000; Adam, lr 0.01, scaled inputs, \(epochs) epochs.",
                      "Batch 32 so với 10.000; Adam, lr 0,01, đầu vào đã chuẩn hóa, \(epochs) epoch."),
                    t("Each batch is one weight update: small batches give many noisy updates per epoch, large batches a few precise ones.",
                      "Mỗi batch là một lần cập nhật trọng số: batch nhỏ cho nhiều lần cập nhật nhiễu mỗi epoch, batch lớn cho ít lần nhưng chính xác hơn.")]
        case .optimizer:
            return [t("SGD against Adam; lr 0.01, batch 32, scaled inputs, \(epochs) epochs.",
                      "SGD so với Adam; lr 0,01, batch 32, đầu vào đã chuẩn hóa, \(epochs) epoch."),
                    t("Adam adapts each weight's step from running averages of its gradient and its square; SGD takes the same step size for every weight.",
                      "Adam điều chỉnh bước của từng trọng số theo trung bình trượt của gradient và bình phương của nó; SGD dùng cùng một bước cho mọi trọng số.")]
        case .learningRate:
            let scaled = study.runs.first?.config.scale ?? true
            return [t("Adam with learning rates 0.1, 0.001 and 0.00001; batch 32, \(scaled ? "scaled" : "unscaled (0…255)") inputs, \(epochs) epochs.",
                      "Adam với tốc độ học 0,1, 0,001 và 0,00001; batch 32, đầu vào \(scaled ? "đã chuẩn hóa" : "chưa chuẩn hóa (0…255)"), \(epochs) epoch."),
                    t("The learning rate sets the step size: too large and training overshoots, too small and it crawls. The histograms show how far each run moved the weights.",
                      "Tốc độ học quyết định độ dài bước: quá lớn thì vượt quá, quá nhỏ thì học rất chậm. Biểu đồ tần suất cho thấy mỗi lần chạy đã đẩy trọng số đi bao xa.")]
        case .weights:
            return [t("The weights and biases of the six learning-rate runs (scaled and unscaled inputs) after training.",
                      "Trọng số và bias của sáu lần chạy tốc độ học (đầu vào đã và chưa chuẩn hóa) sau khi huấn luyện."),
                    t("Every weight starts small (PyTorch's U(−1/√784, 1/√784) for the first layer); larger steps move them further.",
                      "Mọi trọng số bắt đầu nhỏ (U(−1/√784, 1/√784) của PyTorch cho lớp đầu); bước lớn hơn đẩy chúng đi xa hơn.")]
        case .learningRateLong:
            return [t("Adam, lr 0.00001, batch 32, scaled inputs, \(epochs) epochs.", "Adam, lr 0,00001, batch 32, đầu vào đã chuẩn hóa, \(epochs) epoch."),
                    t("The notebook remarks that the smallest learning rate needs about 100 epochs to reach ~89%.",
                      "Notebook nhận xét rằng tốc độ học nhỏ nhất cần khoảng 100 epoch để đạt ~89%.")]
        case .custom:
            return [t("A study from a file: \(study.runs.count) runs.", "Nghiên cứu từ tệp: \(study.runs.count) lần chạy.")]
        }
    }
}
