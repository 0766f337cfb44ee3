"""The language table: which files are which language, and which tree-sitter nodes are definitions.

Everything language-specific lives here as data; `chunker.py` reads it and has no per-language
branches. A rule `{"node_type": None}` matches every node of that type; `{"node_type": {...}}`
matches only nodes with a child or grandchild of one of those types (a C `struct` with a body, a
JavaScript `const f = () => ...`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import PurePosixPath

from tree_sitter import Language, Parser

Rules = dict[str, frozenset[str] | None]
Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class LanguageSpec:
    """How to find definitions in one language's syntax tree."""

    name: str
    grammar: tuple[str, str]  # (python module, function returning the language pointer)
    extensions: tuple[str, ...]
    functions: Rules = field(default_factory=dict)
    classes: Rules = field(default_factory=dict)
    # Containers that only qualify names (namespaces, modules); they make no chunk of their own.
    scopes: frozenset[str] = frozenset()
    # Parents whose span belongs to the definition inside (decorators, `export`, templates).
    outer: frozenset[str] = frozenset()
    # Sibling node types before a definition that belong to it (besides comments).
    leading: frozenset[str] = frozenset()
    # Sibling node types right after a definition that are its body: Dart writes a function as
    # its signature and its body side by side, with no node around the two.
    bodies: frozenset[str] = frozenset()
    name_fields: tuple[str, ...] = ("name",)
    # Go's `func (s *Server) Serve()`: the field whose type names the method's class.
    receiver_field: str | None = None
    # Kotlin's extension function, `fun Instant.plus(...)`: the type written before the name and a
    # `.` names the function's class, as Go's receiver does (`Instant.plus`, not a bare `plus`).
    receiver_before_name: bool = False
    # Elixir: definitions are calls (`def name ... do`); maps the called word to a kind.
    call_kinds: dict[str, str] = field(default_factory=dict)
    # Haskell, Elixir: adjacent clauses of one function (and its signature) form one chunk;
    # JavaScript and TypeScript: a function's overload signatures and its implementation.
    merge_adjacent: bool = False
    filenames: tuple[str, ...] = ()
    # What the parser is shown in place of code its grammar cannot read: (pattern, replacement)
    # pairs for `re.sub`, each keeping the text's length and lines, so that rows, columns and
    # names stay where they are. The chunks still hold the code as written. C and C++ macros on
    # a line of their own are blanked: tree-sitter cannot expand them and reads them as the
    # start of the next definition (`FMT_BEGIN_NAMESPACE` made fmt's whole namespace one
    # function named `namespace`).
    rewrites: tuple[tuple[re.Pattern[str], Replacement], ...] = ()
    # Expressions a rule's needed node may sit inside (a few levels deep): JavaScript's
    # `const Button = forwardRef((props, ref) => ...)` defines `Button` as surely as an arrow does
    # (zod defines each schema as `core.$constructor("$ZodString", (inst, def) => ...)`).
    wrappers: frozenset[str] = frozenset()
    # Values that make a top-level declaration under a doc block a function of its own though no
    # function is written there: JavaScript's `export const createSlice = buildCreateSlice()`
    # (Redux Toolkit), `export const setAutoFreeze = immer.setAutoFreeze.bind(immer)` (immer), a
    # library's API made by a call, its doc comment saying what it is.
    documented_values: frozenset[str] = frozenset()
    # Child node types whose texts, joined with `.`, name a definition: HCL's block labels
    # (`resource "aws_s3_bucket" "logs"` is `aws_s3_bucket.logs`, as Terraform addresses it).
    labels: frozenset[str] = frozenset()
    # Whether a name's `.`, `:` and `::` qualify it; Make's targets are files (`libfoo.so`, `%.o`).
    qualified_names: bool = True
    # Classes without a name of their own whose members are the enclosing class's: Ruby's
    # `class << self` (its methods are `Base.reset!`, not methods of the first constant inside)
    # and Kotlin's unnamed `companion object`. Their own chunk gets no symbol.
    anonymous: frozenset[str] = frozenset()

    @cached_property
    def defining_types(self) -> frozenset[str]:
        """The node types a definition can be found in (the chunker asks only these: a tree has
        hundreds of nodes of other types for each definition): the function and class rules',
        and calls where definitions are calls."""
        return frozenset({*self.functions, *self.classes, *(["call"] if self.call_kinds else [])})


def _any(*types: str) -> Rules:
    return dict.fromkeys(types)


def _needs(inner: frozenset[str], *types: str) -> Rules:
    return dict.fromkeys(types, inner)


# What Dart declares a function with: the signature its body follows
_DART_SIGNATURES = ("function_signature", "getter_signature", "setter_signature", "operator_signature",
                    "constructor_signature", "constant_constructor_signature", "factory_constructor_signature",
                    "redirecting_factory_constructor_signature")
_ZIG_CONTAINERS = frozenset({"struct_declaration", "enum_declaration", "union_declaration", "opaque_declaration"})
_JS_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_JS_WRAPPERS = frozenset({"call_expression", "arguments", "parenthesized_expression", "as_expression",
                          "satisfies_expression"})
# `const api = { get() {...} }`: the object's methods are `api.get`
_JS_SCOPES = frozenset({"variable_declarator"})
# `export const f = () => ...` and `res.send = function send() {...}`: the comments above are
# the statement's, around the declarator or the assignment
_JS_OUTER = frozenset({"export_statement", "lexical_declaration", "variable_declaration", "expression_statement"})
# where a definition's name is: `name`, `a.b = function`'s `left`, `{ key: () => ... }`'s `key`,
# and a class field's `property` (JavaScript; TypeScript's fields have a `name`)
_JS_NAME_FIELDS = ("name", "left", "key", "property")
_JS_DOCUMENTED_VALUES = frozenset({"call_expression"})
_JS_FUNCTIONS: Rules = {
    **_any("function_declaration", "generator_function_declaration", "method_definition"),
    # `handleClick = () => {...}` in a class body: a method (JavaScript's `field_definition`,
    # TypeScript's `public_field_definition`)
    **_needs(_JS_FUNCTION_VALUES, "variable_declarator", "assignment_expression", "pair", "field_definition",
             "public_field_definition",
             # a module's function exported without a name (`export default async (field) => {...}`)
             "export_statement"),
}


def _typescript(name: str, function: str, extensions: tuple[str, ...],
                rewrites: tuple[tuple[re.Pattern[str], Replacement], ...]) -> LanguageSpec:
    """TypeScript and TSX share one grammar package and one set of rules."""
    return LanguageSpec(
        name, ("tree_sitter_typescript", function), extensions,
        functions={**_JS_FUNCTIONS, **_any("function_signature")},
        classes={**_any("class_declaration", "abstract_class_declaration", "interface_declaration",
                        "enum_declaration"),
                 # `type Options = { ... }` is an interface by another name
                 **_needs(frozenset({"object_type"}), "type_alias_declaration")},
        scopes=_JS_SCOPES | {"internal_module", "module"},
        outer=_JS_OUTER, name_fields=_JS_NAME_FIELDS, wrappers=_JS_WRAPPERS, merge_adjacent=True,
        documented_values=_JS_DOCUMENTED_VALUES, rewrites=rewrites,
    )


def _c(name: str, extensions: tuple[str, ...],
       rewrites: tuple[tuple[re.Pattern[str], Replacement], ...]) -> LanguageSpec:
    """C, and the grammar files whose code is C (Yacc's, Lex's), share one grammar and one set of rules."""
    return LanguageSpec(
        name, ("tree_sitter_c", "language"), extensions,
        functions=_any("function_definition", "preproc_function_def"),
        classes=_C_TYPES, outer=frozenset(), name_fields=("declarator", "name"), rewrites=rewrites,
    )


def _blank(match: re.Match[str]) -> str:
    """The match with its `macro` group blanked (the patterns match ASCII: bytes and columns stay put)."""
    keep = match.start("macro") - match.start()
    return match.group(0)[:keep] + " " * len(match.group("macro"))


# TypeScript that tree-sitter-typescript 0.23 cannot read, each of which left the rest of its file
# unparsed (zod's `interface $ZodCheck<in T = never>` in v4/core, reselect's `createSelectorCreator`):
_TSX_REWRITES = (
    # a type parameter's variance (`<out Output = unknown, in Input>`, TypeScript 4.7): blanked
    (re.compile(r"(?<=[<,])(?:\s|/\*(?:[^*]|\*(?!/))*\*/|//[^\n]*\n)*(?P<macro>(?:in[ \t]+out|in|out)[ \t])"
                r"(?=[ \t]*[A-Za-z_$][\w$]*[ \t]*(?:extends\b|=|,|>))"), _blank),
    # a barrel's `export type * from './types'` (TypeScript 5.0): `type` blanked
    (re.compile(r"^[ \t]*export[ \t]+(?P<macro>type)(?=[ \t]+\*)", re.M), _blank),
)
_MEMBER_END = re.compile(r"(?:[\w\])}'\"]|(?<!=)>)$")


def _after_member(text: str, newline: int) -> bool:
    """Whether the code before the line that starts at `newline` (its `\\n`), past blank lines
    and comments, ends as a type member does without its `;`: with a name, a bracket, a quote,
    or a type argument's `>` (not an arrow's `=>`, after which a generic arrow function starts)."""
    end = newline
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip()
        stripped = line.lstrip()
        if stripped.endswith("*/"):  # a block comment: the code before it, on its first line or above
            end = text.rfind("/*", 0, start + len(line) - 1)
        elif not stripped or stripped.startswith("//"):
            end = start - 1
        else:
            return _MEMBER_END.search(line) is not None
    return False


_TYPESCRIPT_REWRITES = (
    *_TSX_REWRITES,
    # a call signature with type parameters on a line of its own after a member that ends without
    # `;` (hono's `interface Get { <Key extends keyof E>(key: Key): ... }` over several lines),
    # past comments: read as type arguments of that member's type; the indent's last blank becomes
    # `;` (not in TSX, where a line that starts with `<` is an element)
    (re.compile(r"\n[ \t]*[ \t](?=<(?:[ \t]*\n[ \t]*)?[A-Za-z_$])"),
     lambda match: match.group(0)[:-1] + ";" if _after_member(match.string, match.start()) else match.group(0)),
)
# hsc2hs's directives in Haskell's `.hsc` files (the network package's `(#peek struct addrinfo,
# ai_next) ptr`, `#{const AI_PASSIVE}`): their `#` blanked, the parser reads a tuple and a brace
_HSC_REWRITES = ((re.compile(r"\([ \t]*#(?=[ \t]*(?:peek|poke|ptr|offset|size|alignment|const)\b)"
                             r"|#(?=\{[ \t]*(?:const|size|alignment|offset|peek|poke|ptr|type|enum)\b)"),
                  lambda match: match.group(0)[:-1] + " "),)
_C_BODIES = frozenset({"field_declaration_list", "enumerator_list"})
# C's types: a struct, union or enum with a body, or a `typedef` of one
_C_TYPES: Rules = {**_needs(_C_BODIES, "struct_specifier", "union_specifier", "enum_specifier"),
                   **_needs(frozenset({"struct_specifier", "union_specifier", "enum_specifier"}), "type_definition")}
# A C or C++ macro the parser cannot expand: upper case with an underscore (`QT_BEGIN_NAMESPACE`,
# `__BEGIN_DECLS`, `FMT_EXPORT`, `SPDLOG_NOEXCEPT`), no arguments
_MACRO_NAME = r"_{0,2}[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?"
_MACRO = rf"(?P<macro>{_MACRO_NAME})"
# Such a macro alone on its line
_C_MACRO_LINE = re.compile(rf"^[ \t]*{_MACRO}[ \t]*$", re.M)
# Such a macro between a function's parameters and its body (`) SPDLOG_NOEXCEPT {`, `) FMT_NOEXCEPT;`):
# the parser cannot place it, and the error can cost the file its namespaces and a function
_C_MACRO_AFTER_PARAMETERS = re.compile(rf"(?<=\))[ \t]+{_MACRO}(?=[ \t]*(?:\{{|;|->|const\b|override\b|$))", re.M)
# An export macro between `class` or `struct` and the name (`class SPDLOG_API logger {`,
# `class GTEST_API_ Test`, Qt's `class Q_CORE_EXPORT QString`): the parser reads a function
# (only in a class head: the name and its template arguments, then `final`, a base list, a body
# or the line's end; not `struct UV_REQ_FIELDS req;`)
_C_MACRO_IN_CLASS_HEAD = re.compile(
    rf"\b(?:class|struct)[ \t]+{_MACRO}"
    r"(?=[ \t]+[A-Za-z_][\w:]*(?:<[^\n;{]*>)?[ \t]*(?:final\b[ \t]*)?(?:[:{]|$))", re.M)

# Such macros at the start of a declaration, before its type or its name (`CLI11_NODISCARD
# std::string help() const;`, `CLI11_INLINE void TriggerOn(App *a);`, `SPDLOG_INLINE
# logger::logger(...)`, a constructor's `FMT_CONSTEXPR typed_node(const Arg& arg)`, `FMT_CONSTEXPR
# FMT_INLINE auto f()`): the parser reads the first as a type, and CLI11's `class App` became a
# function named after a member. Not before `operator`, which it reads either way.
_C_MACROS_BEFORE_DECLARATION = re.compile(
    rf"^[ \t]*(?P<macro>(?:{_MACRO_NAME}[ \t]+)+)"
    r"(?!operator\b)(?=(?:const|static|inline|virtual|explicit|constexpr|friend|auto|void|bool|char|int|unsigned|"
    r"signed|long|short|float|double|struct|class|enum|typename|template|extern)\b"
    r"|[A-Za-z_][\w:]*(?:<[^;{}\n]*>)?[ \t*&]+[*&]*[A-Za-z_~]|~?[A-Za-z_][\w:]*[ \t]*\()", re.M)

# A macro standing for `constexpr` in an `if` (fmt's `if FMT_CONSTEXPR20 (need_copy<T>::value)`)
_C_MACRO_IN_IF = re.compile(rf"\bif[ \t]+{_MACRO}(?=[ \t]*\()")

_C_REWRITES = tuple((pattern, _blank) for pattern in (_C_MACRO_LINE, _C_MACRO_AFTER_PARAMETERS, _C_MACRO_IN_CLASS_HEAD,
                                                      _C_MACROS_BEFORE_DECLARATION, _C_MACRO_IN_IF))


# Objective-C's availability and naming macros after a declaration, before its `;` or body
# (`@property ... *session AF_API_UNAVAILABLE(macos);`, `- (void)f API_AVAILABLE(ios(13.0)) {`):
# the parser cannot place one, and AFNetworking's `@implementation AFURLSessionManager` after it
# was lost
_OBJC_MACRO_CALL_AT_END = re.compile(
    rf"(?<=[\w)\]])[ \t]+(?P<macro>{_MACRO_NAME}\([^;{{}}\n]*\))(?=[ \t]*(?:;|\{{|$))", re.M)
# Foundation's enums, `typedef NS_ENUM(NSInteger, AFNetworkReachabilityStatus) {`: shown to the
# parser as the C enum they expand to, `enum AFNetworkReachabilityStatus {`, the name in its place
_NS_ENUM = re.compile(r"\btypedef[ \t]+NS_(?:ENUM|OPTIONS|CLOSED_ENUM|ERROR_ENUM)[ \t]*\([^,()\n]*,[ \t]*"
                      r"(?P<name>\w+)[ \t]*\)")


def _c_enum(match: re.Match[str]) -> str:
    """`_NS_ENUM`'s match as `enum` and the name where it was, blanks between and after."""
    before = match.start("name") - match.start()
    return "enum".ljust(before) + match.group("name") + " " * (match.end() - match.end("name"))


def _blank_all(match: re.Match[str]) -> str:
    """The match blanked but for its line breaks (whole lines: every other line's columns stay)."""
    return _blanked(match.group(0))


def _blanked(text: str) -> str:
    """`text` as spaces but for its line breaks."""
    return re.sub(r"[^\n]", " ", text)


# C# written for several builds in one file (`#if FEATURE_DEFAULT_INTERFACE ... #else ; #endif`
# between a method's signature and its body, all through Serilog's `ILogger`): tree-sitter reads
# directives only between declarations, and both branches together are no C#. The parser is shown
# the first branch of each, as if its symbol were defined; the other branches and the directive
# lines are blanked (15 of the 16 files of Serilog and Dapper that had a syntax error parse whole).
# A branch holding an `#if` of its own is blanked up to that one's `#endif`.
_CSHARP_REWRITES = (
    (re.compile(r"^[ \t]*#[ \t]*(?:else|elif)\b.*?^[ \t]*#[ \t]*endif\b[^\n]*", re.M | re.S), _blank_all),
    (re.compile(r"^[ \t]*#[ \t]*(?:if|elif|else|endif)\b[^\n]*", re.M), _blank_all),
)
# Objective-C is written for several platforms the same way (`#if SD_MAC` around methods inside an
# `@implementation`, `#if AF_CAN_USE_AT_AVAILABLE` around one `if`'s condition), and its grammar
# reads no directive inside a class: the parser is shown every branch, the directive lines blanked.
# Unlike C#'s, the branches are whole methods or statements that still parse one after another
# (two conditions make an `if` inside an `if`), and the code for every platform is kept (SDWebImage:
# 1,231 methods, against 1,222 when the first branch alone was shown and 1,194 with the directives)
_OBJC_REWRITES = ((_NS_ENUM, _c_enum), *_C_REWRITES, (_OBJC_MACRO_CALL_AT_END, _blank),
                  (re.compile(r"^[ \t]*#[ \t]*(?:if|ifdef|ifndef|elif|else|endif)\b[^\n]*", re.M), _blank_all))


# A Vue or Svelte component's file: its `<script>` blocks are JavaScript or TypeScript, the rest
# (the template, the styles) is markup. The parser is shown the scripts alone, everything else
# blanked but for its line breaks: the script's functions are chunks, and the markup stays in
# the module's chunks as written, searched as code is (not as prose, as the whole file was).
_OUTSIDE_SCRIPTS = (
    (re.compile(r"(?:\A|</script\s*>)(?:(?!<script\b).)*?(?:<script\b[^>]*>|\Z)", re.S | re.I), _blank_all),
)


def _grammar_code(match: re.Match[str]) -> str:
    """A Yacc (Bison) or Lex (Flex) file as the C parser is shown it: the code between `%{` and
    `%}` and the user code after the second `%%` as they are, the declarations and the rules
    (whose actions are fragments of C, not definitions) blanked but for their line breaks."""
    text = match.group(0)
    kept = [m.span(1) for m in re.finditer(r"^%\{[^\n]*\n(.*?)^%\}", text, re.M | re.S)]
    marks = [m.end() for m in re.finditer(r"^%%[^\n]*(?:\n|\Z)", text, re.M)]
    if len(marks) >= 2:
        kept.append((marks[1], len(text)))
    out, at = [], 0
    for start, end in sorted(kept):
        if start < at:
            continue
        out += [_blanked(text[at:start]), text[start:end]]
        at = end
    return "".join(out) + _blanked(text[at:])


# A parser's or a scanner's source, Yacc's (`parse.y`: jq's `jq_parse`, Ruby's and PHP's grammars)
# or Lex's (`lexer.l`): their C is shown to the C parser, the grammar blanked around it; the chunks
# keep the file as written, the rules in the module's chunks.
_GRAMMAR_REWRITES = ((re.compile(r"\A.+", re.S), _grammar_code),)


def _constructor_up(match: re.Match[str]) -> str:
    """`class Options` NEWLINE `private constructor(` as `class Options  private constructor(`
    NEWLINE NEWLINE: the line break moves to after the `(`, where a break is allowed."""
    return f"{match.group(1)}{' ' * (len(match.group(2)) - 1)}{match.group(3)}\n"


# Kotlin that tree-sitter-kotlin 1.1 cannot read, each of which left a whole class unparsed,
# its methods named without it (exposed: 13 of 100 files; moshi's `JsonReader`, okio's `ByteString`):
_KOTLIN_REWRITES = (
    # a nested class's primary constructor with modifiers on the line after its name (ktfmt's
    # `class Options` NEWLINE `private constructor(...)`): the grammar ends the class at the break
    # (at the margin there is no blank to move the break into; there the grammar mostly copes)
    (re.compile(r"(class(?<=\bclass)[ \t]+\w+(?:<[^\n]*>)?)(\n[ \t]+)"  # `class` first: `re` skips to it
                r"((?:(?:private|internal|protected|public|actual|expect)[ \t]+|@\w+[ \t]+)*constructor\()"),
     _constructor_up),
    # the same at the margin, where the grammar copes but for a platform modifier (okio's `actual
    # open class ByteString` NEWLINE `internal actual constructor(`): `actual` and `expect` blanked
    (re.compile(r"class(?<=\bclass)[ \t]+\w+(?:<[^\n]*>)?\n(?:(?:private|internal|protected|public)[ \t]+)*"
                r"(?P<macro>(?:actual|expect)[ \t]+)(?=(?:(?:private|internal|protected|public)[ \t]+)*constructor\()"),
     _blank),
    # an annotated getter or setter of a property written without its type (okio's `actual val
    # size` NEWLINE `@JvmName("size")` NEWLINE `get() = getSize()`): the annotation blanked
    (re.compile(r"(?P<macro>@[\w.]+(?:\([^()\n]*\))?)(?=[ \t]*\n?[ \t]*(?<![\w.])(?:get|set)[ \t]*\()"), _blank),
    # a call of a function named `get` on the line after a local property that ends there (`val
    # copy = ByteArray(n)` NEWLINE `get(copy)`): read as the property's getter, which takes no
    # argument; the indent's last blank becomes `;`
    (re.compile(r"(\n[ \t]*va[lr][ \t][^\n]*[\w)\]}\"'][ \t]*\n[ \t]*)[ \t](?=get\((?![ \t]*\)))"), r"\1;"),
    # a statement that starts with a variable named `where` (`where?.let { ... }`): the grammar
    # takes `where` for a type constraint of the line before; the indent's last blank becomes `;`
    (re.compile(r"(\n[ \t]*)[ \t](?=where(?:\?\.|\.|!!))"), r"\1;"),
    # Kotlin 2's guard, `is Join if cond -> ...`: read as a second condition, `is Join , cond ->`
    (re.compile(r"^([ \t]*!?(?:is|in)[ \t](?:(?!->)[^\n])*?[ \t])if(?=[ \t(][^\n]*->)", re.M), r"\1, "),
)


def _as_class(match: re.Match[str]) -> str:
    """`Point = Struct.new(:x, :y) do` as `class Point`, each line padded to its length (the
    arguments may run over several)."""
    first, *rest = match.group(0).split("\n")
    head = f"{match.group(1)}class {match.group(2)}".ljust(len(first))
    return "\n".join([head, *(" " * len(line) for line in rest)])


# A class made by a call with a block, `Point = Struct.new(:x, :y) do ... end` (also `Class.new`,
# `Data.define`, and a Struct of the project's own: faraday's `Env = Options.new(:method,
# :url, ...) do`), shown to the parser as the `class Point ... end` it is: its methods are
# `Point.dist`, not the enclosing module's
_RUBY_REWRITES = (
    (re.compile(r"^([ \t]*)([A-Z]\w*)[ \t]*=[ \t]*(?:::)?[A-Z]\w*(?:::[A-Z]\w*)*\.(?:new|define)\b"
                r"(?:\([^()]*\))?[^\n]*?[ \t]do(?:[ \t]*\|[^|\n]*\|)?[ \t]*(?:#[^\n]*)?$", re.M), _as_class),
)


def _bats_test(match: re.Match[str]) -> str:
    """`@test "parses a flag" {` as `test_parses_a_flag() {`, padded to the same length (ASCII
    punctuation becomes `_`, one byte for one, so rows and columns stay put)."""
    name = "test_" + re.sub(r"[\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]", "_", match.group(3))
    return f"{match.group(1)}{name}()".ljust(len(match.group(0)) - 1) + "{"


# Bats, Bash's test framework: a test is `@test "name" { ... }`, which tree-sitter-bash reads as a
# command and its body as loose lines; shown to it as the function it is
_BATS_REWRITES = ((re.compile(r"^([ \t]*)@test[ \t]+([\"'])(.*?)\2[ \t]*\{[ \t]*$", re.M), _bats_test),)

LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python", ("tree_sitter_python", "language"), (".py", ".pyi", ".pyw"),
        functions=_any("function_definition"), classes=_any("class_definition"),
        outer=frozenset({"decorated_definition"}),
    ),
    LanguageSpec(
        "javascript", ("tree_sitter_javascript", "language"), (".js", ".mjs", ".cjs", ".jsx"),
        functions=_JS_FUNCTIONS, classes=_any("class_declaration", "class"), scopes=_JS_SCOPES,
        outer=_JS_OUTER, name_fields=_JS_NAME_FIELDS, wrappers=_JS_WRAPPERS, merge_adjacent=True,
        documented_values=_JS_DOCUMENTED_VALUES,
    ),
    _typescript("typescript", "language_typescript", (".ts", ".mts", ".cts"), _TYPESCRIPT_REWRITES),
    _typescript("tsx", "language_tsx", (".tsx",), _TSX_REWRITES),
    _typescript("vue", "language_typescript", (".vue",), (*_OUTSIDE_SCRIPTS, *_TYPESCRIPT_REWRITES)),
    _typescript("svelte", "language_typescript", (".svelte",), (*_OUTSIDE_SCRIPTS, *_TYPESCRIPT_REWRITES)),
    LanguageSpec(
        "go", ("tree_sitter_go", "language"), (".go",),
        functions=_any("function_declaration", "method_declaration"), classes=_any("type_declaration"),
        receiver_field="receiver",
    ),
    LanguageSpec(
        "rust", ("tree_sitter_rust", "language"), (".rs",),
        functions=_any("function_item", "macro_definition"),
        classes=_any("struct_item", "enum_item", "union_item", "trait_item", "impl_item"),
        scopes=frozenset({"mod_item"}), leading=frozenset({"attribute_item"}),
        name_fields=("name", "type"),
    ),
    LanguageSpec(
        "java", ("tree_sitter_java", "language"), (".java",),
        functions=_any("method_declaration", "constructor_declaration", "compact_constructor_declaration"),
        classes={**_any("class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                        "annotation_type_declaration"),
                 # an enum constant with a body of its own (a state machine's `InBody { ... }`)
                 **_needs(frozenset({"class_body"}), "enum_constant")},
    ),
    LanguageSpec(
        "kotlin", ("tree_sitter_kotlin", "language"), (".kt", ".kts"),
        functions=_any("function_declaration", "secondary_constructor"),
        classes=_any("class_declaration", "object_declaration", "companion_object"),
        anonymous=frozenset({"companion_object"}), rewrites=_KOTLIN_REWRITES, receiver_before_name=True,
    ),
    LanguageSpec(
        "scala", ("tree_sitter_scala", "language"), (".scala", ".sc", ".sbt"),
        functions=_any("function_definition"),
        classes=_any("class_definition", "object_definition", "trait_definition", "enum_definition",
                     "package_object"),
    ),
    LanguageSpec(
        "swift", ("tree_sitter_swift", "language"), (".swift",),
        functions={**_any("function_declaration", "init_declaration", "deinit_declaration"),
                   # `var dictionaryObject: [String: Any]? { get {...} set {...} }` is code as a
                   # method is, and Swift's APIs are made of them
                   **_needs(frozenset({"computed_property"}), "property_declaration")},
        classes=_any("class_declaration", "protocol_declaration"),
    ),
    _c("c", (".c", ".h"), _C_REWRITES),
    _c("yacc", (".y",), (*_GRAMMAR_REWRITES, *_C_REWRITES)),
    _c("lex", (".l",), (*_GRAMMAR_REWRITES, *_C_REWRITES)),
    LanguageSpec(
        # Objective-C, and Objective-C++ (`.mm`), whose C++ the grammar reads with local errors;
        # a header is Objective-C by its head (`_OBJC_HINTS`)
        "objc", ("tree_sitter_objc", "language"), (".m", ".mm"),
        functions=_any("function_definition", "method_definition"),
        # `@interface` (a category's too: `@interface UIImageView (AFNetworking)`), `@implementation`
        # and `@protocol`, named by their first identifier; C's structs as in C
        classes={**_any("class_interface", "class_implementation", "protocol_declaration"), **_C_TYPES},
        name_fields=("declarator", "name"), rewrites=_OBJC_REWRITES,
    ),
    LanguageSpec(
        "cpp", ("tree_sitter_cpp", "language"),
        # and a template's implementation beside its header (`.inl`, `.tpp`, `.tcc`), a module (`.cppm`, `.ixx`),
        # and GPU kernels in C++'s CUDA and HIP dialects (`__global__ void add(...)`: the grammar reads
        # the qualifiers as a type and a `<<<grid, block>>>` launch with a local error, and the
        # definitions are found as in C++)
        (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".inl", ".tpp", ".tcc", ".cppm", ".ixx",
         ".cu", ".cuh", ".hip"),
        functions=_any("function_definition", "preproc_function_def"),
        classes=_needs(_C_BODIES, "class_specifier", "struct_specifier", "union_specifier", "enum_specifier"),
        scopes=frozenset({"namespace_definition"}), outer=frozenset({"template_declaration"}),
        name_fields=("declarator", "name"), rewrites=_C_REWRITES,
    ),
    LanguageSpec(
        "csharp", ("tree_sitter_c_sharp", "language"), (".cs",),
        functions={**_any("method_declaration", "constructor_declaration", "destructor_declaration",
                          "operator_declaration", "conversion_operator_declaration", "local_function_statement"),
                   # a property whose accessors have bodies (`get { ... }`) is code as a method is,
                   # as Swift's computed properties are; `{ get; set; }` is a field
                   **_needs(frozenset({"block"}), "property_declaration")},
        # a delegate is a type too: a method's signature, named (`delegate Task Next<T>()`)
        classes=_any("class_declaration", "interface_declaration", "struct_declaration",
                     "record_declaration", "enum_declaration", "delegate_declaration"),
        scopes=frozenset({"namespace_declaration"}), wrappers=frozenset({"accessor_declaration"}),
        rewrites=_CSHARP_REWRITES,
    ),
    LanguageSpec(
        "php", ("tree_sitter_php", "language_php"), (".php", ".phtml"),
        functions=_any("function_definition", "method_declaration"),
        classes=_any("class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"),
    ),
    LanguageSpec(
        "ruby", ("tree_sitter_ruby", "language"), (".rb", ".rake", ".gemspec", ".ru"),
        functions=_any("method", "singleton_method"), classes=_any("class", "module", "singleton_class"),
        # and the Ruby files tools read by name (CocoaPods', Vagrant's, fastlane's, Bundler's, Thor's)
        filenames=("Rakefile", "Gemfile", "Podfile", "Vagrantfile", "Fastfile", "Appfile", "Brewfile", "Guardfile",
                   "Capfile", "Dangerfile", "Berksfile", "Thorfile"),
        anonymous=frozenset({"singleton_class"}), rewrites=_RUBY_REWRITES,
    ),
    LanguageSpec(
        "elixir", ("tree_sitter_elixir", "language"), (".ex", ".exs"),
        call_kinds={
            **dict.fromkeys(("def", "defp", "defmacro", "defmacrop", "defguard", "defguardp",
                             "defdelegate"), "function"),
            **dict.fromkeys(("defmodule", "defprotocol", "defimpl"), "class"),
        },
        leading=frozenset({"unary_operator"}), merge_adjacent=True,
    ),
    LanguageSpec(
        "haskell", ("tree_sitter_haskell", "language"), (".hs", ".lhs", ".hsc"),
        # a `function` with clauses (`match`) is a definition; one without is a type, `Int -> IO ()`,
        # in a record's field
        functions={**_any("signature", "bind"), **_needs(frozenset({"match"}), "function")},
        classes=_any("data_type", "newtype", "class", "instance", "type_synomym", "type_family"),
        # `p --> f = ...` defines `-->`, and ``x `orElse` y = ...`` defines `orElse`
        name_fields=("name", "operator"), merge_adjacent=True, rewrites=_HSC_REWRITES,
    ),
    LanguageSpec(
        "lua", ("tree_sitter_lua", "language"), (".lua",),
        functions={**_any("function_declaration"),
                   **_needs(frozenset({"function_definition"}), "assignment_statement", "field")},
        name_fields=("name",),
    ),
    LanguageSpec(
        "zig", ("tree_sitter_zig", "language"), (".zig",),
        functions=_any("function_declaration", "test_declaration"),
        # `const Pool = struct { ... }`, and a generic type: a function that returns one
        # (`fn ArrayList(comptime T: type) type { return struct { ... }; }`), its functions methods
        classes=_needs(_ZIG_CONTAINERS, "variable_declaration", "function_declaration"),
        wrappers=frozenset({"block", "expression_statement", "return_expression"}),
    ),
    LanguageSpec(
        # SQL's schema and routines (migrations, a database's functions): what `CREATE` makes is
        # named for its object, `CREATE TABLE users` is `users`; a query is module code
        "sql", ("tree_sitter_sql", "language"), (".sql",),
        functions=_any("create_function", "create_procedure", "create_trigger"),
        classes=_any("create_table", "create_view", "create_materialized_view", "create_type"),
        outer=frozenset({"statement"}),
        # SQL Server's batch separator, `GO` on its own line, which is no SQL: the next statement was lost
        rewrites=((re.compile(r"^[ \t]*GO[ \t]*;?[ \t]*$", re.M | re.I), _blank_all),),
    ),
    LanguageSpec(
        "dart", ("tree_sitter_dart", "language"), (".dart",),
        # a function is its signature (`method_signature`'s, or a body-less `declaration`'s: a
        # constructor with initialisers, an abstract or `external` method) and the `function_body`
        # beside it; getters, setters, operators and constructors are methods as functions are
        functions=_any(*_DART_SIGNATURES),
        # and a `typedef`, which names a function's type as Go's `type HandlerFunc func(...)` does
        classes=_any("class_definition", "enum_declaration", "mixin_declaration", "extension_declaration",
                     "extension_type_declaration", "type_alias"),
        outer=frozenset({"method_signature", "declaration"}), leading=frozenset({"annotation"}),
        bodies=frozenset({"function_body", "initializers"}),
    ),
    LanguageSpec(
        # Terraform's, Packer's and Nomad's configuration: a block with labels is a definition
        # (`resource`, `module`, `variable`, `output`, `data`, `provider`), named for them; a block
        # without (`locals`, `terraform`, a resource's `lifecycle`) is its file's or its block's code
        "hcl", ("tree_sitter_hcl", "language"), (".tf", ".tfvars", ".hcl", ".nomad"),
        classes=_needs(frozenset({"string_lit"}), "block"), labels=frozenset({"string_lit"}),
    ),
    LanguageSpec(
        # Bazel's and Buck's Starlark, a dialect of Python: rules and macros (`.bzl`) and the BUILD
        # files that call them
        "starlark", ("tree_sitter_python", "language"), (".bzl", ".star", ".bazel"),
        functions=_any("function_definition"),
        filenames=("BUILD", "WORKSPACE", "BUCK", "Tiltfile"),
    ),
    LanguageSpec(
        # Make's rules with a recipe are what a Makefile defines, named for their targets (`build`,
        # `%.o`), and a `define` block; its variables and dependency lines are its module's code
        "make", ("tree_sitter_make", "language"), (".mk", ".mak"),
        functions={**_needs(frozenset({"recipe"}), "rule"), **_any("define_directive")},
        labels=frozenset({"targets"}), qualified_names=False, filenames=("Makefile", "makefile", "GNUmakefile"),
    ),
    LanguageSpec(
        "bash", ("tree_sitter_bash", "language"), (".sh", ".bash", ".zsh", ".ksh", ".bats"),
        functions=_any("function_definition"),
        filenames=(".bashrc", ".bash_profile", ".bash_aliases", ".zshrc", ".zshenv", ".zprofile", ".profile", ".envrc",
                   "PKGBUILD"),
        rewrites=_BATS_REWRITES,
    ),
)

BY_NAME: dict[str, LanguageSpec] = {spec.name: spec for spec in LANGUAGES}
_BY_EXTENSION: dict[str, LanguageSpec] = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_FILENAME: dict[str, LanguageSpec] = {n: spec for spec in LANGUAGES for n in spec.filenames}
_SHEBANGS = {"python": "python", "bash": "bash", "sh": "bash", "zsh": "bash", "bats": "bash", "node": "javascript",
             "ruby": "ruby", "lua": "lua", "elixir": "elixir"}

# A `.h` file is C++ when its head holds C++ alone can: a namespace, a template, a class, `public:`,
# a standard header without `.h`, `enum class`, a scope (`std::string`, `fmt::format`), `constexpr`
# or `nullptr`. C read as C++ parses nearly the same; C++ read as C loses its definitions
_CPP_HINTS = re.compile(r"^\s*(namespace\s+\w|template\s*<|class\s+\w+\s*[:{]|public:|#include\s*<\w+>$)"
                        r"|\benum\s+class\b|\b[a-z_]+::[A-Za-z_]|\bconstexpr\b|\bnullptr\b", re.M)

# Files that are text but not code: indexed in line windows under this language name.
TEXT = "text"


# A line of C's preprocessor, which tells an included `.inc` fragment of C from PHP's or Pascal's
_C_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(?:include|define|if|ifdef|ifndef|pragma)\b", re.M)


# A `.h` file is Objective-C when its head declares a class or protocol the Objective-C way, or
# imports as only Objective-C does (`#import "SDWebImageCompat.h"`)
_OBJC_HINTS = re.compile(r"^[ \t]*(?:@(?:interface|protocol|class)\b|#[ \t]*import\b)", re.M)


def language_for(path: str, head: str = "") -> str:
    """The language of a file from its name, or its `#!` line; `text` when no grammar fits."""
    p = PurePosixPath(path)
    spec = _BY_FILENAME.get(p.name) or _BY_EXTENSION.get(p.suffix.lower())
    if spec and spec.name == "c" and p.suffix.lower() == ".h" and _OBJC_HINTS.search(head):
        return "objc"
    if spec and spec.name == "c" and p.suffix.lower() == ".h" and _CPP_HINTS.search(head):
        return "cpp"
    if not spec and p.suffix.lower() == ".inc":  # a fragment a C or C++ file includes (abseil's), or not
        return "cpp" if _CPP_HINTS.search(head) else "c" if _C_DIRECTIVE.search(head) else TEXT
    if spec:
        return spec.name
    if head.startswith("#!"):
        words = head.split("\n", 1)[0].replace("/", " ").split()
        for word in reversed(words):
            name = _SHEBANGS.get(word.rstrip("0123456789."))
            if name:
                return name
    return TEXT


@cache
def parser_for(language: str) -> Parser:
    """A tree-sitter parser for a language of the table (grammars come from PyPI wheels)."""
    module_name, function = BY_NAME[language].grammar
    module = importlib.import_module(module_name)
    return Parser(Language(getattr(module, function)()))
