/// One phrasing of an instruction task: an input template and a target template with named
/// placeholders in braces, FLAN style (Wei et al. 2022; Chung et al. 2022).
///
/// Placeholders are `{name}` with `name` made of ASCII letters, digits and `_` (not starting with
/// a digit); `{{` and `}}` stand for literal braces. Any other brace is a malformed template.
///
/// ```swift
/// let t = InstructionTemplate("{question}\n\nOPTIONS:\n{options}", "{answer}")
/// let (input, target) = try t.render(["question": "What shape is it?", "options": "- circle\n- square", "answer": "circle"])
/// ```
public struct InstructionTemplate: Sendable, Equatable, Codable {
    /// The prompt shown to the model.
    public let input: String
    /// What the model should produce.
    public let target: String

    public init(_ input: String, _ target: String) {
        self.input = input
        self.target = target
    }

    enum Segment: Equatable {
        case text(String)
        case placeholder(String)
    }

    /// Splits a template into literal text and placeholders, or says what is malformed.
    static func segments(_ template: String) -> Result<[Segment], TemplateError> {
        var out: [Segment] = []
        var literal = ""
        var i = template.startIndex
        func isNameStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
        func isName(_ c: Character) -> Bool { isNameStart(c) || (c.isASCII && c.isNumber) }
        while i < template.endIndex {
            let c = template[i]
            let next = template.index(after: i)
            if c == "{" {
                if next < template.endIndex && template[next] == "{" { literal.append("{"); i = template.index(after: next); continue }
                guard let close = template[next...].firstIndex(of: "}") else {
                    return .failure(TemplateError(.malformedTemplate, "unclosed '{' in \"\(template)\""))
                }
                let name = String(template[next..<close])
                guard let first = name.first, isNameStart(first), name.allSatisfy(isName) else {
                    return .failure(TemplateError(.malformedTemplate, "'{\(name)}' is not a placeholder name (letters, digits, _) in \"\(template)\""))
                }
                if !literal.isEmpty { out.append(.text(literal)); literal = "" }
                out.append(.placeholder(name))
                i = template.index(after: close)
            } else if c == "}" {
                guard next < template.endIndex && template[next] == "}" else {
                    return .failure(TemplateError(.malformedTemplate, "unmatched '}' in \"\(template)\" (write '}}' for a brace)"))
                }
                literal.append("}")
                i = template.index(after: next)
            } else {
                literal.append(c)
                i = next
            }
        }
        if !literal.isEmpty { out.append(.text(literal)) }
        return .success(out)
    }

    static func placeholders(_ template: String) -> [String] {
        guard case .success(let segments) = segments(template) else { return [] }
        var names: [String] = []
        for case .placeholder(let n) in segments where !names.contains(n) { names.append(n) }
        return names
    }

    /// The placeholders of the input template, in order of first appearance.
    public var inputPlaceholders: [String] { Self.placeholders(input) }
    /// The placeholders of the target template, in order of first appearance.
    public var targetPlaceholders: [String] { Self.placeholders(target) }
    /// Every placeholder, input first, without repeats.
    public var placeholders: [String] {
        var all = inputPlaceholders
        for n in targetPlaceholders where !all.contains(n) { all.append(n) }
        return all
    }

    /// Throws when either template is malformed.
    public func validate() throws(TemplateError) {
        if case .failure(let e) = Self.segments(input) { throw e }
        if case .failure(let e) = Self.segments(target) { throw e }
    }

    /// Fills both templates from `values`; throws ``TemplateError`` naming every placeholder
    /// without a value. Values are inserted verbatim (braces in them are not interpreted).
    public func render(_ values: [String: String]) throws(TemplateError) -> (input: String, target: String) {
        let missing = placeholders.filter { values[$0] == nil }
        guard missing.isEmpty else {
            throw TemplateError(.missingValue, "no value for " + missing.map { "{\($0)}" }.joined(separator: ", "))
        }
        return (try Self.fill(input, values), try Self.fill(target, values))
    }

    static func fill(_ template: String, _ values: [String: String]) throws(TemplateError) -> String {
        let segments: [Segment]
        switch Self.segments(template) {
        case .success(let s): segments = s
        case .failure(let e): throw e
        }
        var out = ""
        for s in segments {
            switch s {
            case .text(let t): out += t
            case .placeholder(let n): out += values[n] ?? ""
            }
        }
        return out
    }
}
