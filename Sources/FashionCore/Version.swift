/// FashionLab's version, shown in reports and `fashionlab --version`.
public enum FashionLabVersion {
    public static let current = "0.2.0"
}
