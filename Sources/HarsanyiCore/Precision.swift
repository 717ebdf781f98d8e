/// Floating-point precision of a transform or a device buffer.
public enum Precision: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64

    /// Bytes per element.
    public var byteSize: Int { self == .float32 ? 4 : 8 }
    public var description: String { rawValue }
}

/// The element types the package computes in: `Float` and `Double`.
public protocol HarsanyiReal: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
    static var precision: Precision { get }
}
extension Float: HarsanyiReal { public static var precision: Precision { .float32 } }
extension Double: HarsanyiReal { public static var precision: Precision { .float64 } }
