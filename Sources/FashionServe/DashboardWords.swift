import FashionCharts

/// The pages' words in a `Language` (FashionCharts' one translation mechanism; the lab report's Vietnamese
/// wording is followed). The page's script gets the same table as JSON, so every word is written once, here.
public struct DashboardWords: Sendable {
    public let language: Language
    public let chart: ChartWords
    let table: [String: String]

    public init(_ language: Language) {
        self.language = language
        chart = ChartWords(language)
        table = Self.phrases.mapValues { language.t($0.0, $0.1) }
    }

    public static let english = DashboardWords(.english)
    public static let vietnamese = DashboardWords(.vietnamese)

    /// The language of `code`; English for nil or a code FashionLab does not write.
    public static func named(_ code: String?) -> DashboardWords { code.flatMap(Language.named) == .vietnamese ? .vietnamese : .english }

    public var code: String { language.code }

    public subscript(_ key: String) -> String { table[key] ?? key }

    var weightsTitle: String { self["weightsTitle"] }

    /// Each phrase in English and Vietnamese.
    static let phrases: [String: (String, String)] = [
        "title": ("FashionLab runs", "Các lần chạy FashionLab"),
        "runs": ("Runs", "Các lần chạy"),
        "reports": ("Study and lab reports", "Báo cáo nghiên cứu và thực hành"),
        "compare": ("Compare", "So sánh"),
        "compareSelected": ("Compare the ticked runs", "So sánh các lần chạy đã chọn"),
        "compareTitle": ("Comparing runs", "So sánh các lần chạy"),
        "predict": ("Try a model", "Thử mô hình"),
        "run": ("run", "lần chạy"),
        "folder": ("folder", "thư mục"),
        "status": ("status", "trạng thái"),
        "settings": ("settings", "cấu hình"),
        "epochs": ("epochs", "epoch"),
        "trainLoss": ("train loss", "mất mát huấn luyện"),
        "trainAcc": ("train acc", "độ chính xác huấn luyện"),
        "valLoss": ("val loss", "mất mát kiểm định"),
        "valAcc": ("val acc", "độ chính xác kiểm định"),
        "testAcc": ("test acc", "độ chính xác kiểm tra"),
        "time": ("time", "thời gian"),
        "updated": ("updated", "cập nhật"),
        "running": ("running", "đang chạy"),
        "finished": ("finished", "hoàn tất"),
        "diverged": ("diverged", "phân kỳ"),
        "interrupted": ("interrupted", "bị dừng"),
        "unreadable": ("unreadable", "không đọc được"),
        "noRuns": ("No runs under this folder yet. Start one with fashionlab train --out DIR/NAME; it appears here when it starts.",
                   "Chưa có lần chạy nào trong thư mục này. Hãy chạy fashionlab train --out DIR/TÊN; nó sẽ hiện ở đây khi bắt đầu."),
        "curves": ("Loss and accuracy", "Mất mát và độ chính xác"),
        "curvesCaption": ("Loss (top) and accuracy (bottom) after each epoch: training as dots, validation as a line; the thin line is the loss every few steps (--log-every). Updated live.",
                          "Mất mát (trên) và độ chính xác (dưới) sau mỗi epoch: huấn luyện là chấm, kiểm định là đường; đường mảnh là mất mát sau mỗi vài bước (--log-every). Cập nhật trực tiếp."),
        "weights": ("Weight histograms", "Phân bố trọng số"),
        "weightsTitle": ("Weights", "Trọng số"),
        "confusion": ("Confusion matrix and per-class accuracy", "Ma trận nhầm lẫn và độ chính xác từng lớp"),
        "confusionTitle": ("Confusion matrix on the test set", "Ma trận nhầm lẫn trên tập kiểm tra"),
        "class": ("class", "lớp"),
        "accuracy": ("accuracy", "độ chính xác"),
        "notYet": ("Not available yet: ", "Chưa có: "),
        "report": ("The run's report", "Báo cáo của lần chạy"),
        "chooseModel": ("Model (a run)", "Mô hình (một lần chạy)"),
        "dropHere": ("Drop a photo here (JPEG or PNG, straight from a phone) or choose one:", "Thả ảnh vào đây (JPEG hoặc PNG, chụp từ điện thoại) hoặc chọn ảnh:"),
        "orDraw": ("…or draw on the canvas:", "…hoặc vẽ lên khung:"),
        "classifyDrawing": ("Classify the drawing", "Phân loại hình vẽ"),
        "clear": ("Clear", "Xóa"),
        "top3": ("Top 3 classes", "3 lớp có khả năng nhất"),
        "modelSaw": ("What the model was given (28×28)", "Ảnh mô hình nhận (28×28)"),
        "probability": ("probability", "xác suất"),
        "working": ("Classifying…", "Đang phân loại…"),
        "noModels": ("No run has a model yet (a model is written after a run's first epoch).", "Chưa lần chạy nào có mô hình (mô hình được ghi sau epoch đầu tiên)."),
        "live": ("live", "trực tiếp"),
        "offline": ("reconnecting…", "đang kết nối lại…"),
        "back": ("All runs", "Tất cả các lần chạy"),
        "language": ("Tiếng Việt", "English"),
        "limits": ("Pictures up to 10 MB and 50 megapixels.", "Ảnh tối đa 10 MB và 50 megapixel."),
    ]
}
