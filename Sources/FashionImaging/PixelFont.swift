/// A 5×7 pixel font for the few words FashionLab writes into PNG images (class names, labels, numbers):
/// digits, the letters of the Fashion-MNIST class names, and a little punctuation.
public enum PixelFont {
    /// Rows of each glyph, top to bottom, "#" for ink.
    static let glyphs: [Character: [String]] = [
        "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
        "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
        "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
        "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
        "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
        "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
        "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
        "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
        "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
        "A": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
        "B": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
        "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
        "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
        "P": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
        "S": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
        "T": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
        "a": ["     ", "     ", " ### ", "    #", " ####", "#   #", " ####"],
        "b": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#### "],
        "d": ["    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####"],
        "e": ["     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "],
        "g": ["     ", " ####", "#   #", "#   #", " ####", "    #", " ### "],
        "h": ["#    ", "#    ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
        "i": ["  #  ", "     ", " ##  ", "  #  ", "  #  ", "  #  ", " ### "],
        "k": ["#    ", "#    ", "#  # ", "# #  ", "##   ", "# #  ", "#  # "],
        "l": [" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
        "n": ["     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #"],
        "o": ["     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "],
        "p": ["     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    "],
        "r": ["     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    "],
        "s": ["     ", "     ", " ####", "#    ", " ### ", "    #", "#### "],
        "t": [" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "],
        "u": ["     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #"],
        "v": ["     ", "     ", "#   #", "#   #", "#   #", " # # ", "  #  "],
        "-": ["     ", "     ", "     ", " ### ", "     ", "     ", "     "],
        "/": ["    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    "],
        ">": ["#    ", " #   ", "  #  ", "   # ", "  #  ", " #   ", "#    "],
        "%": ["##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##"],
        ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
        " ": ["     ", "     ", "     ", "     ", "     ", "     ", "     "],
    ]

    /// Width in pixels of `text` at `scale` (6 columns per character, the last without its gap).
    public static func width(_ text: String, scale: Int) -> Int { max(0, text.count * 6 - 1) * scale }

    /// True when every character of `text` has a glyph (`draw` skips the others).
    public static func canDraw(_ text: String) -> Bool { text.allSatisfy { glyphs[$0] != nil } }

    /// Height in pixels at `scale`.
    public static func height(scale: Int) -> Int { 7 * scale }

    /// Draws `text` into a gray image with its top-left corner at (x, y); unknown characters are skipped.
    public static func draw(_ text: String, into image: inout Image, x: Int, y: Int, scale: Int = 1, ink: UInt8 = 0) {
        precondition(image.channels == 1, "PixelFont draws into gray images")
        var penX = x
        for character in text {
            if let rows = glyphs[character] {
                for (gy, row) in rows.enumerated() {
                    for (gx, mark) in row.enumerated() where mark == "#" {
                        for dy in 0..<scale {
                            for dx in 0..<scale {
                                let px = penX + gx * scale + dx, py = y + gy * scale + dy
                                if px >= 0, py >= 0, px < image.width, py < image.height { image.pixels[py * image.width + px] = ink }
                            }
                        }
                    }
                }
            }
            penX += 6 * scale
        }
    }
}
