import FashionCharts
import FashionCore
import FashionTraining

/// The files a study writes into its directory (`fashionlab study`; each study's folder of `fashionlab lab`).
public enum StudyFiles {
    /// `curves.svg` and, for the studies that show them, `weights.svg`: the figures of the study's report section.
    public static func writeCharts(_ result: StudyResult, language: Language, to directory: String) throws {
        let section = LabReport.section(result, language: language)
        for (index, figure) in section.figures.enumerated() {
            if case let .svg(markup, _) = figure {
                try AtomicFile.write(text: markup, to: directory + "/" + (index == 0 ? RunDirectory.curvesChart : RunDirectory.weightsChart))
            }
        }
    }

    /// The charts and the study's own `report.html`.
    public static func write(_ result: StudyResult, language: Language, device: String = "CPU", to directory: String) throws {
        try writeCharts(result, language: language, to: directory)
        try AtomicFile.write(text: LabReport.studyPage(result, language: language, device: device).html(), to: directory + "/" + RunDirectory.reportPage)
    }
}
