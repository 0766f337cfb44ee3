"""What a definition is called, read from its syntax tree: its name as it is called (without
Kotlin's backticks, a C macro that wraps it, a Rust reference's `&`), an operator's
(`operator+`), an HCL block's labels, a Go receiver's or a Kotlin extension's type, and a name cut
where it qualifies (`Base::Helpers`). `chunker` asks these of each definition it finds."""

from __future__ import annotations

import re

from codesearch.indexer.languages import LanguageSpec
from tree_sitter import Node

NAME_TYPES = frozenset({
    "identifier", "type_identifier", "simple_identifier", "constant", "name", "word",
    "property_identifier", "field_identifier", "alias", "variable", "namespace_identifier",
    "qualified_identifier", "scoped_identifier", "scoped_type_identifier", "dot_index_expression",
    "method_index_expression", "operator_name", "destructor_name", "string", "string_content", "member_expression",
    "operator_identifier", "scope_resolution", "nested_namespace_specifier", "qualified_name",
})


# A C or C++ name holding a type: a space, `*` or `&` before the name
_TYPE_IN_NAME = re.compile(r"[\s*&]\s*~?[A-Za-z_][\w:]*\s*(?:\(|$)")
_C_WORDS = re.compile(r"[\s*&]+")

# A macro's name, all capitals: `STB_SPRINTF_DECORATE`
_ALL_CAPS = re.compile(r"_{0,2}[A-Z][A-Z0-9_]*")

# A Rust reference's `&`, lifetime and `mut` before the type it refers to
_REFERENCE = re.compile(r"^&\s*(?:'\w+\s+)?(?:mut\s+)?")

# Destructuring on the left of a declaration (JavaScript's `const { a, b } = ...`, `const [a, b]`)
_PATTERNS = frozenset({"object_pattern", "array_pattern"})

# What JavaScript calls the function a module exports without a name (`export default (field)
# => ...`); `chunk_source` names it for its file, as an import of it names it
DEFAULT_EXPORT = "default"


def destructures(node: Node, spec: LanguageSpec) -> bool:
    """Whether a declaration's name is a destructuring pattern (`const { a, b } = ...`)."""
    return any(named is not None and named.type in _PATTERNS
               for named in map(node.child_by_field_name, spec.name_fields))


def name_parts(name: str) -> list[str]:
    """A name cut where it qualifies (`Base::Helpers` and Lua's `M:read` as `Base`, `Helpers`),
    but never a string or an operator: Zig's `test "url: parse a.b"` is named by the whole string,
    Scala's `def :+` and `def ::` by the operator."""
    if name[:1] in ("'", '"') or not re.search(r"\w", name):
        return [name]
    return [part for part in re.split(r"::|:|\.", _without_type_arguments(name)) if part]


def _without_type_arguments(name: str) -> str:
    """A name without the type arguments it is written with: C++'s member defined outside its
    class template, `basic_memory_buffer<T, SIZE, Allocator>::grow`, is `basic_memory_buffer::grow`
    (`formatter<std::chrono::duration<Rep>>::format` holds `::` of its own). An operator's
    `<` is its name (`operator<<`)."""
    head, operator, tail = name.partition("operator")
    if "<" not in head:
        return name
    kept: list[str] = []
    depth = 0
    for char in head:
        if char == "<":
            depth += 1
        elif char == ">" and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept) + operator + tail


def definition_name(node: Node, spec: LanguageSpec, kind: str) -> str:
    """A definition's name as it is called: without the backticks that quote Kotlin's, Scala's
    and Swift's names (`` `-JsonUtf8Reader` `` is `-JsonUtf8Reader`, a test's
    `` `parses an empty body` `` is `parses an empty body`) or the parentheses around an operator."""
    name = _written_name(node, spec, kind)
    if node.type == "impl_item" and name in _type_parameters(node):
        # Rust's blanket `impl<F, Fut> Handler for F` implements the trait for any type: it is
        # the trait's (`Handler.call`), not a type named `F`'s
        trait = node.child_by_field_name("trait")
        found = _first_name(trait, depth=0) if trait is not None else None
        if found is not None:
            return node_text(found)
    if name == "void":
        # C's `int CJSON_CDECL main(void)` parses as `int CJSON_CDECL;` and a function of type
        # `main` whose declarator is `(void)`: there the type is the name
        written = node.child_by_field_name("type")
        if written is not None and written.type in NAME_TYPES:
            return node_text(written)
    if len(name) > 2 and (name[0] == name[-1] == "`" or (name[0], name[-1]) == ("(", ")")):
        return name[1:-1]  # Haskell's operator in prefix form, `(-->)`, is the operator `-->`
    if "declarator" in spec.name_fields and _ALL_CAPS.fullmatch(name):
        # C's name made by a macro, `int STB_SPRINTF_DECORATE(vsprintfcb)(char *buf, ...)`: the
        # function is the macro's argument
        decorated = _decorated(node.child_by_field_name("declarator"))
        if decorated:
            return decorated
    if "declarator" in spec.name_fields and _TYPE_IN_NAME.search(name) and not name.startswith("operator"):
        # C++'s `SPDLOG_INLINE std::shared_ptr<logger> get(...)`: the parser takes the macro for
        # the type and the type for part of the name, `shared_ptr<logger> get`; the name is the last word
        # (`SPDLOG_INLINE thread_pool::process_next_msg_` is `thread_pool::process_next_msg_`)
        words = _C_WORDS.split(name.split("(", 1)[0].strip())
        return words[-1] or name
    return name


def _type_parameters(node: Node) -> set[str]:
    """The names of a Rust `impl`'s type parameters (`<T: Clone, F>`: `T`, `F`)."""
    parameters = node.child_by_field_name("type_parameters")
    return {node_text(p.named_children[0] if p.named_children else p)
            for p in (parameters.named_children if parameters is not None else [])}


def _decorated(declarator: Node | None) -> str:
    """The argument of the macro call a C function declarator names its function with
    (`MACRO(name)(params)`), or "" where it names it otherwise."""
    while declarator is not None and declarator.type in ("pointer_declarator", "parenthesized_declarator"):
        declarator = declarator.child_by_field_name("declarator")
    inner = declarator.child_by_field_name("declarator") if declarator is not None else None
    if declarator is None or declarator.type != "function_declarator" or inner is None \
            or inner.type != "function_declarator":
        return ""
    parameters = inner.child_by_field_name("parameters")
    arguments = parameters.named_children if parameters is not None else []
    if len(arguments) == 1 and len(arguments[0].named_children) == 1:
        return node_text(arguments[0].named_children[0])
    return ""


def _written_name(node: Node, spec: LanguageSpec, kind: str) -> str:
    if spec.call_kinds:
        return _call_name(node)
    if node.type == "export_statement":
        return DEFAULT_EXPORT  # `export default () => ...`: named for its file once the file is read
    if destructures(node, spec):
        return ""  # no one name: the members of `const { a } = f({ b() {} })` are not `{ a }.b`
    labels = [node_text(child).strip('"') for child in node.named_children if child.type in spec.labels]
    if labels:
        return ".".join(labels)
    for field_name in spec.name_fields:
        child = node.child_by_field_name(field_name)
        if child is not None and child.type == "user_type" and (nested := _nested_type(child)):
            return nested
        if child is not None:
            found = _first_name(child, depth=0) if child.type not in NAME_TYPES else child
            if found is not None:
                return node_text(found)
            written = _REFERENCE.sub("", node_text(child))  # Rust's `impl Display for &'static str` is `str`'s
            if written and "\n" not in written:  # an operator (`==`, Ruby's `[]`) or C++'s `operator bool()`
                return written.split("(", 1)[0].strip() or written
    keyword = next((child for child in node.children if child.type == "operator"), None)
    if keyword is not None and keyword.next_sibling is not None:
        # C#'s `public static Money operator +(...)`, Dart's `bool operator ==(...)`: named as C++'s
        # `operator+` is, not for the type they return; a conversion's `operator decimal` keeps its space
        written = node_text(keyword.next_sibling)
        return f"operator {written}" if written[:1].isalpha() else f"operator{written}"
    for child in node.named_children:
        if child.type in NAME_TYPES:
            return node_text(child)
        if child.type == "object_reference":  # SQL's `CREATE FUNCTION app.touch()`: the object's own
            named = child.child_by_field_name("name")  # name, as written but for quotes (`"users"`)
            return node_text(named if named is not None else child).strip('"`[]')
    if node.type in spec.anonymous:
        return ""  # its members are qualified by the enclosing class
    if kind == "function":  # named by its keyword: Kotlin's `constructor(...)`
        keyword = next((child for child in node.children if not child.is_named), None)
        if keyword is not None and node_text(keyword).isalpha():
            return node_text(keyword)
    if kind == "class":  # Go's `type_declaration > type_spec > name`, Zig's `const X = struct`
        for child in node.named_children:
            found = _first_name(child, depth=1)
            if found is not None:
                return node_text(found)
    if kind == "scope":
        return ""  # C++'s anonymous `namespace { ... }` qualifies nothing
    return node.type.replace("_declaration", "").replace("_definition", "")


def _nested_type(node: Node) -> str:
    """A Swift type's path where it names a nested type (`extension HTTPClient.Configuration`:
    `HTTPClient.Configuration`, whose members are not `HTTPClient`'s own), else ""."""
    parts = [node_text(child) for child in node.named_children if child.type == "type_identifier"]
    return ".".join(parts) if len(parts) > 1 else ""


def _first_name(node: Node, depth: int) -> Node | None:
    if node.type in NAME_TYPES:
        return node
    if depth >= 4:
        return None
    for child in node.named_children:
        # nor what the parser could not place: `void * CJSON_CDECL internal_malloc(...)` holds
        # the macro it cannot expand as an error before the name; nor a Rust lifetime, whose
        # `'a` named `impl Serializer for &'a mut Serializer<W>`
        if child.type in ("parameter_list", "parameters", "formal_parameters", "ERROR", "lifetime"):
            continue
        found = _first_name(child, depth + 1)
        if found is not None:
            return found
    return None


def _call_name(node: Node) -> str:
    arguments = next((c for c in node.named_children if c.type == "arguments"), None)
    first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
    while first is not None and first.type in ("call", "binary_operator"):
        first = first.child_by_field_name("target") or first.child_by_field_name("left")
    return node_text(first) if first is not None else ""


def receiver_type(node: Node, spec: LanguageSpec) -> str:
    """The type a function is a method of though no class holds it: Go's receiver, the type of a
    Kotlin extension function. Its last name, without a generic type's parameters or a `?`."""
    if spec.receiver_before_name:
        children = node.children
        receiver = next((child for child, after in zip(children, children[1:], strict=False)
                         if after.type == "." and child.type in _RECEIVER_TYPES), None)
    elif spec.receiver_field is not None:
        receiver = node.child_by_field_name(spec.receiver_field)
    else:
        return ""
    if receiver is None:
        return ""
    # `(s *Server)`: `Server`; `(f *FlagBase[T, V])`: `FlagBase`; `List<T>.second`: `List`;
    # `kotlin.time.Instant.plus`: `Instant`
    names = re.findall(r"[A-Za-z_]\w*", re.split(r"[\[<]", node_text(receiver), maxsplit=1)[0])
    return names[-1] if names else ""


# The types a Kotlin extension function's receiver is written as (`Instant`, `String?`)
_RECEIVER_TYPES = frozenset({"user_type", "nullable_type"})


def node_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace").strip()
