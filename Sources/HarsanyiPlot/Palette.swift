/// The fixed colours of every figure: the Okabe–Ito palette, which stays distinguishable under the common
/// forms of colour blindness (Okabe & Ito, "Color Universal Design", 2002).
///
/// Signed quantities use ``positive`` (vermilion) above zero and ``negative`` (blue) below, as the papers' red
/// and blue order plots do. Series without an explicit colour take ``series`` in turn.
public enum Palette {
    public static let black = "#000000"
    public static let orange = "#E69F00"
    public static let skyBlue = "#56B4E9"
    public static let bluishGreen = "#009E73"
    public static let yellow = "#F0E442"
    public static let blue = "#0072B2"
    public static let vermilion = "#D55E00"
    public static let reddishPurple = "#CC79A7"
    /// A neutral grey for controls and reference lines.
    public static let grey = "#7F7F7F"

    /// The colour of positive values (vermilion, "red").
    public static let positive = vermilion
    /// The colour of negative values (blue).
    public static let negative = blue

    /// Colours for series in turn: blue, vermilion, bluish green, orange, reddish purple, sky blue, black, yellow.
    public static let series = [blue, vermilion, bluishGreen, orange, reddishPurple, skyBlue, black, yellow]

    /// The i-th series colour (cycling).
    public static func series(_ index: Int) -> String { series[((index % series.count) + series.count) % series.count] }

    /// (positive, negative) colour pairs for grouped signed series: (vermilion, blue), (orange, sky blue),
    /// (reddish purple, bluish green), cycling.
    public static let signedPairs: [(positive: String, negative: String)] = [
        (vermilion, blue), (orange, skyBlue), (reddishPurple, bluishGreen),
    ]

    /// The i-th (positive, negative) pair (cycling).
    public static func signedPair(_ index: Int) -> (positive: String, negative: String) {
        signedPairs[((index % signedPairs.count) + signedPairs.count) % signedPairs.count]
    }

    /// Colours for highlighted player sets: AND sets in vermilion, OR sets in blue, others in turn.
    public static let highlight = [vermilion, blue, bluishGreen, orange, reddishPurple, skyBlue]
}
