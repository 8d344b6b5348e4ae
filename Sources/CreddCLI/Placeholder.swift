public enum Credd { public static func main() {} }
