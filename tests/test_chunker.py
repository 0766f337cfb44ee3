"""Chunking: every language on a realistic file, coverage of every line, splitting, windows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from codesearch.indexer.chunker import MAX_CHUNK_LINES, _sections, chunk_file, chunk_source, chunk_text
from codesearch.indexer.languages import BY_NAME, language_for, parser_for

LANGUAGES = Path(__file__).parent / "fixtures" / "languages"

# file -> (language, definitions that must come out as (kind, qualified name))
EXPECTED = {
    "sample.py": ("python", {("function", "upload_file"), ("class", "UploadQueue"),
                             ("method", "UploadQueue.push"), ("method", "UploadQueue.drain")}),
    "sample.js": ("javascript", {("function", "loadConfig"), ("function", "mergeDefaults"), ("class", "Server"),
                                 ("method", "Server.listen"), ("function", "module.exports.createServer")}),
    "sample.ts": ("typescript", {("class", "User"), ("function", "formatUser"), ("class", "UserStore"),
                                 ("method", "UserStore.add"), ("method", "UserStore.find"),
                                 ("function", "countUsers")}),
    "sample.tsx": ("tsx", {("function", "Button"), ("function", "Toolbar")}),
    "sample.go": ("go", {("class", "Cache"), ("function", "New"), ("method", "Cache.Get")}),
    "sample.rs": ("rust", {("class", "RateLimiter"), ("method", "RateLimiter.new"), ("method", "RateLimiter.allow"),
                           ("function", "main")}),
    "Sample.java": ("java", {("class", "InvoiceCalculator"), ("method", "InvoiceCalculator.total"),
                             ("method", "InvoiceCalculator.InvoiceCalculator")}),
    "sample.kt": ("kotlin", {("class", "Point"), ("class", "Geometry"), ("method", "Geometry.distance"),
                             ("function", "origin")}),
    "sample.scala": ("scala", {("class", "Shape"), ("class", "Circle"), ("method", "Circle.area"),
                               ("class", "Shapes"), ("method", "Shapes.totalArea")}),
    "sample.swift": ("swift", {("class", "Greeter"), ("class", "FriendlyGreeter"), ("method", "FriendlyGreeter.init"),
                               ("method", "FriendlyGreeter.greet"), ("function", "makeGreeter")}),
    "sample.c": ("c", {("class", "buffer"), ("function", "buffer_grow"), ("function", "main")}),
    "sample.cpp": ("cpp", {("class", "text.Tokenizer"), ("method", "text.Tokenizer.split"),
                           ("function", "text.count_words")}),
    "sample.dart": ("dart", {("class", "Point"), ("method", "Point.midpoint"), ("method", "Point.length"),
                             ("method", "Point.operator=="), ("class", "Scalable"), ("method", "Scalable.scale"),
                             ("class", "Describe"), ("method", "Describe.describe"), ("class", "Quadrant"),
                             ("class", "PointFilter"), ("function", "origin")}),
    "sample.tf": ("hcl", {("class", "aws_s3_bucket.logs"), ("class", "prefix"), ("class", "logs_bucket_arn")}),
    "sample.bzl": ("starlark", {("function", "service_binary")}),
    "Makefile": ("make", {("function", "build"), ("function", "%.o"), ("function", "clean")}),
    "sample.cs": ("csharp", {("class", "Shop.Cart"), ("method", "Shop.Cart.Add"), ("method", "Shop.Cart.Checkout")}),
    "sample.php": ("php", {("class", "Mailer"), ("method", "Mailer.send"), ("function", "render_template")}),
    "sample.rb": ("ruby", {("class", "Billing"), ("class", "Billing.Subscription"),
                           ("method", "Billing.Subscription.renew!"), ("method", "Billing.Subscription.from_json")}),
    "sample.ex": ("elixir", {("class", "Chat.Room"), ("method", "Chat.Room.start_link"),
                             ("method", "Chat.Room.broadcast"), ("method", "Chat.Room.format")}),
    "sample.hs": ("haskell", {("class", "Stack"), ("function", "push"), ("function", "pop")}),
    # the module's table `M` is the module: `sample.read_file` (chunker version 56)
    "sample.lua": ("lua", {("method", "sample.read_file"), ("function", "trim"), ("method", "sample.reload")}),
    "sample.zig": ("zig", {("class", "Parser"), ("method", "Parser.next"), ("function", "main")}),
    "sample.sh": ("bash", {("function", "log_error"), ("function", "install_deps")}),
    # a category's methods are its class's; a header is Objective-C by its head, `NS_ENUM` a C enum
    "sample.m": ("objc", {("function", "CacheFileName"), ("class", "ImageCache"), ("method", "ImageCache.sharedCache"),
                          ("method", "ImageCache.storeData"), ("method", "ImageCache.evictKey")}),
    # what `CREATE` makes, named for its object, with the comment above it; SQL Server's `GO` read past
    "sample.sql": ("sql", {("class", "users"), ("class", "active_users"), ("function", "touch_updated_at"),
                           ("function", "users_touch"), ("class", "mood"), ("class", "refunds")}),
    "ImageCache.h": ("objc", {("class", "ImageCacheType"), ("class", "ImageCacheDelegate"), ("class", "ImageCache")}),
}


def covered_lines(chunks) -> set[int]:
    lines: set[int] = set()
    for c in chunks:
        text_lines = c.text.split("\n")
        assert len(text_lines) <= c.end_line - c.start_line + 1
        lines.update(range(c.start_line, c.end_line + 1))
    return lines


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_language_chunks_into_its_definitions(name: str) -> None:
    language, expected = EXPECTED[name]
    path = LANGUAGES / name
    assert language_for(name, path.read_text()[:8192]) == language
    chunks = chunk_file(path, name)
    found = {(c.kind, c.qualified_name) for c in chunks}
    assert expected <= found, f"missing {expected - found}"
    # No non-blank line is unsearchable: each lies in some chunk's text.
    source = path.read_text().split("\n")
    texts = "\n".join(c.text for c in chunks)
    for number, line in enumerate(source, 1):
        if line.strip():
            assert number in covered_lines(chunks), f"line {number} of {name} is in no chunk"
            assert line in texts


def test_leading_comments_and_decorators_belong_to_the_definition() -> None:
    chunks = chunk_file(LANGUAGES / "sample.py", "sample.py")
    upload = next(c for c in chunks if c.symbol == "upload_file")
    assert upload.text.startswith("@retry_on_error\ndef upload_file")
    go = chunk_file(LANGUAGES / "sample.go", "sample.go")
    assert next(c for c in go if c.symbol == "Get").text.startswith("// Get looks a key up.")


def test_class_chunk_is_an_outline_of_header_fields_and_signatures() -> None:
    chunks = chunk_file(LANGUAGES / "sample.py", "sample.py")
    outline = next(c for c in chunks if c.kind == "class").text
    assert "limit = 10" in outline and "def push(self, path):" in outline
    assert "self.items.append(path)" not in outline


def test_an_outline_shows_each_member_s_signature_not_its_annotations() -> None:
    sources = {
        "Node.java": ("class Node {\n  @Override\n  @SuppressWarnings({\n    \"unchecked\"\n  })\n"
                      "  public String toString() { return name; }\n}\n", "public String toString()"),
        "Node.kt": ("object Node {\n  @JvmStatic\n  @Throws(IOException::class)\n"
                    "  internal fun get(x: Int): Int = x\n}\n", "internal fun get(x: Int)"),
        "NodeTests.cs": ("class NodeTests {\n  [Fact]\n  [Trait(\"kind\", \"unit\")]\n  public void Parses() { }\n}\n",
                         "public void Parses()"),
        "Node.swift": ("struct Node {\n  @discardableResult\n  @inlinable\n  public func size() -> Int { 1 }\n}\n",
                       "public func size()"),
    }
    for path, (source, signature) in sources.items():
        chunks = chunk_text(source, path)
        outline = next(c for c in chunks if c.kind == "class").text
        assert signature in outline and "@" not in outline and "[" not in outline, path
        member = next(c for c in chunks if c.kind == "method")
        assert member.text.lstrip().startswith(("@", "[")), path  # the member's own chunk keeps them


def test_long_function_is_split_at_statement_boundaries_without_losing_lines() -> None:
    body = "\n".join(f"    total += step({i})" for i in range(400))
    source = f"def long_function(step):\n    total = 0\n{body}\n    return total\n"
    chunks = [c for c in chunk_source(source, "long.py", "python") if c.symbol == "long_function"]
    assert len(chunks) >= 3
    assert all(c.end_line - c.start_line + 1 <= MAX_CHUNK_LINES for c in chunks)
    assert "\n".join(c.text for c in chunks) == source.rstrip("\n")
    assert [c.start_line for c in chunks] == sorted(c.start_line for c in chunks)


def test_a_long_arrow_function_returned_by_an_arrow_function_is_cut_at_its_statements() -> None:
    # swr's middleware: its statements are 5 levels below the declaration's value
    body = "\n".join(f"    const v{i} = step({i})" for i in range(300))
    source = ("export const infinite = (<Data>(useSWRNext: SWRHook) =>\n"
              "  (\n    getKey: Loader,\n    fn: Fetcher | null\n  ) => {\n"
              f"{body}\n    return v1\n  }}) as unknown as Middleware\n")
    chunks = [c for c in chunk_source(source, "src/infinite/index.ts", "typescript") if c.symbol == "infinite"]
    assert "\n".join(c.text for c in chunks) == source.rstrip("\n")
    first = chunks[0]
    assert first.end_line - first.start_line + 1 > 100  # not a 1-line head, the rest cut every 150 lines
    assert all(c.text.split("\n", 1)[0].lstrip().startswith(("export", "const")) for c in chunks)  # statements


def test_text_files_fall_back_to_line_windows() -> None:
    text = "\n".join(f"line {i}" for i in range(1, 121))
    chunks = chunk_source(text, "notes.txt", language_for("notes.txt"))
    assert [c.kind for c in chunks] == ["block"] * 3
    assert (chunks[0].start_line, chunks[0].end_line, chunks[-1].end_line) == (1, 50, 120)


def test_content_hash_ignores_the_path_but_not_the_code() -> None:
    source = "def f():\n    return 1\n"
    a = chunk_source(source, "a.py", "python")[0]
    b = chunk_source(source, "moved/b.py", "python")[0]
    c = chunk_source(source.replace("1", "2"), "a.py", "python")[0]
    assert a.content_hash == b.content_hash != c.content_hash


def test_header_guess_tells_cpp_headers_from_c_and_reads_shebangs() -> None:
    assert language_for("x.h", "#include <stdio.h>\nint f(void);") == "c"
    assert language_for("x.h", "namespace fmt {\ntemplate <typename T> class A {};\n}") == "cpp"
    # fmt's `color.h` opens its namespace with a macro; `enum class` and `std::` still say C++
    assert language_for("color.h", '#include "format.h"\nFMT_BEGIN_NAMESPACE\nenum class color : uint32_t {};') == "cpp"
    assert language_for("sink-inl.h", "SPDLOG_INLINE bool spdlog::sinks::sink::should_log() const {}") == "cpp"
    assert language_for("uv.h", "/* see http://libuv.org */\nstruct uv_loop_s { void* data; };") == "c"
    # C++'s other files: a template's implementation, a module; Rack's `config.ru` is Ruby
    for name in ("vector.inl", "list.tpp", "stl_algo.tcc", "math.cppm", "core.ixx", "x.c++"):
        assert language_for(name, "template <typename T> void f(T) {}") == "cpp", name
    assert language_for("config.ru", "run App") == "ruby"
    # files tools read by their names: CocoaPods', Vagrant's, fastlane's, Thor's (Ruby), direnv's and
    # Arch's (Bash); sbt's builds are Scala
    for name, language in (("ios/Podfile", "ruby"), ("Vagrantfile", "ruby"), ("fastlane/Fastfile", "ruby"),
                           ("Thorfile", "ruby"), (".envrc", "bash"), ("PKGBUILD", "bash"), ("build.sbt", "scala"),
                           ("project/plugins.sbt", "scala")):
        assert language_for(name) == language, name
    # an included `.inc` fragment is C or C++ by what it holds (abseil's), else text (PHP's, Pascal's)
    assert language_for("absl/time/internal/zone_info.inc", "namespace absl {\nint x;\n}") == "cpp"
    assert language_for("src/tables.inc", "#if defined(X)\nstatic const int t[] = {1};\n#endif") == "c"
    assert language_for("lib/old.inc", "<?php\necho 'hi';") == "text"
    assert language_for("bin/deploy", "#!/usr/bin/env bash\necho hi") == "bash"
    assert language_for("README.md") == "text"


def test_a_macro_alone_on_its_line_does_not_swallow_the_namespace_after_it() -> None:
    # fmt and Qt open namespaces with macros tree-sitter cannot expand; read as they are, the
    # namespace became one function named `namespace`, its classes and methods lost inside it
    source = (
        "FMT_BEGIN_NAMESPACE\n"
        "namespace detail {\n"
        "\n"
        "class arg_store {\n"
        " public:\n"
        "  void push(int value) { values_.push_back(value); }\n"
        "\n"
        " private:\n"
        "  std::vector<int> values_;\n"
        "};\n"
        "\n"
        "}  // namespace detail\n"
        "FMT_END_NAMESPACE\n"
    )
    chunks = chunk_source(source, "args.h", "cpp")
    found = {(c.kind, c.qualified_name) for c in chunks}
    assert {("class", "detail.arg_store"), ("method", "detail.arg_store.push")} <= found
    assert not any(c.symbol == "namespace" for c in chunks)
    assert "FMT_BEGIN_NAMESPACE" in "\n".join(c.text for c in chunks)  # hidden from the parser only
    for c in chunks:  # lines and columns are the file's own
        assert c.text.split("\n")[0] == source.split("\n")[c.start_line - 1]


def test_a_const_made_by_a_call_that_takes_a_function_is_a_definition() -> None:
    # React's forwardRef and memo, zod's `$constructor`: the name is defined by a call, its code
    # is the function handed to it
    source = (
        'import React from "react";\n'
        "\n"
        "export const Button = React.forwardRef((props, ref) => {\n"
        "  return <button ref={ref} {...props} />;\n"
        "});\n"
        "\n"
        'export const $ZodString = core.$constructor("$ZodString", (inst, def) => {\n'
        "  inst._zod.parse = (payload) => payload;\n"
        "});\n"
        "\n"
        "const total = items.length;\n"
    )
    chunks = chunk_source(source, "button.tsx", "tsx")
    found = {(c.kind, c.qualified_name): c for c in chunks}
    assert found[("function", "Button")].text.startswith("export const Button")
    assert found[("function", "$ZodString")].end_line == 9
    assert ("function", "total") not in found  # a call with no function in it defines nothing
    assert any(c.kind == "module" and "const total" in c.text for c in chunks)


def test_a_documented_export_made_by_a_call_is_a_definition() -> None:
    # Redux Toolkit's `createSlice` and immer's API are made by calls; their doc comments say what
    # they are. They had been lines of a module chunk that spanned the functions between them.
    source = (
        "const debug = require('debug')('app');\n"
        "\n"
        "/**\n"
        " * A function that accepts an initial state and reducers and generates action creators.\n"
        " */\n"
        "export const createSlice = /* @__PURE__ */ buildCreateSlice()\n"
        "\n"
        "/** Pass true to automatically freeze all copies created by Immer. */\n"
        "export const setAutoFreeze = immer.setAutoFreeze.bind(immer)\n"
        "\n"
        "/** Module dependencies. */\n"
        "const http = require('http')\n"
        "\n"
        "/** The value that says a draft was deleted. */\n"
        "export const NOTHING = Symbol.for('immer-nothing')\n"
        "\n"
        "/** Request prototype. */\n"
        "var req = Object.create(http.IncomingMessage.prototype)\n"
        "\n"
        "export const store = configureStore()\n"
        "\n"
        "function build() {\n"
        "  /** a local under a comment */\n"
        "  const local = make()\n"
        "  return local\n"
        "}\n"
    )
    chunks = chunk_source(source, "index.ts", "typescript")
    found = {(c.kind, c.qualified_name): c for c in chunks}
    made = found[("function", "createSlice")]
    assert (made.start_line, made.end_line) == (3, 6)  # with its doc comment
    assert (found[("function", "setAutoFreeze")].start_line, found[("function", "setAutoFreeze")].end_line) == (8, 9)
    # imports, objects, sentinels, a declaration without a doc block and a local stay where they were
    assert {q for k, q in found if k == "function"} == {"createSlice", "setAutoFreeze", "build"}
    module = "\n".join(c.text for c in chunks if c.kind == "module")
    assert all(text in module for text in ("require('http')", "Symbol.for", "Object.create", "configureStore()"))
    assert "buildCreateSlice()" not in module


def test_a_syntax_error_stays_in_its_own_declaration() -> None:
    # Kotlin 2's guard in `when` is newer than the grammar; tree-sitter's recovery from it left
    # the whole file one module chunk, the class after it included
    source = (
        "package demo\n"
        "\n"
        "class Dialect {\n"
        "    fun defaultValue(e: Expression): String = when (e) {\n"
        '        is LiteralOp if e.isJson -> "json"\n'
        '        else -> "plain"\n'
        "    }\n"
        "}\n"
        "\n"
        "class Registry(private val items: MutableList<String>) {\n"
        "    fun register(name: String) {\n"
        "        items.add(name)\n"
        "    }\n"
        "}\n"
    )
    chunks = chunk_source(source, "Dialect.kt", "kotlin")
    found = {(c.kind, c.qualified_name): c for c in chunks}
    assert found[("method", "Registry.register")].start_line == 11
    assert "class Dialect {" in "\n".join(c.text for c in chunks)  # the broken part is still searchable
    # a body's own lines at the margin (`#if`, a comment) do not cut it: the line before the
    # blank ones is indented
    c_source = "int f(int x) {\n  x += 1;\n\n#if defined(A)\n  x += 2;\n#endif\n\n/* done */\n  return x;\n}\n"
    assert _sections(c_source) == [c_source]
    sections = _sections(source)  # cut where each class starts, rows kept
    assert [len(s.split("\n")) for s in sections] == [3, 10, 15]
    assert sections[2].split("\n")[9] == "class Registry(private val items: MutableList<String>) {"
    assert len(_sections(source.replace("\n", "\r\n"))) == 3  # Windows line ends cut the same


def test_a_doc_comment_a_grammar_ends_the_previous_body_with_belongs_to_the_next_definition() -> None:
    # tree-sitter-scala's indented blocks end with the next method's doc comment; operators
    # (`<*>`) are names too
    source = (
        "trait Apply[F[_]] {\n"
        "  /**\n"
        "   * Alias for [[ap]].\n"
        "   */\n"
        "  @inline final def <*>[A, B](ff: F[A => B])(fa: F[A]): F[B] =\n"
        "    ap(ff)(fa)\n"
        "\n"
        "  /**\n"
        "   * Alias for [[productR]].\n"
        "   */\n"
        "  @inline final def *>[A, B](fa: F[A])(fb: F[B]): F[B] =\n"
        "    productR(fa)(fb)\n"
        "}\n"
    )
    methods = {c.qualified_name: c for c in chunk_source(source, "Apply.scala", "scala") if c.kind == "method"}
    assert set(methods) == {"Apply.<*>", "Apply.*>"}
    assert (methods["Apply.<*>"].start_line, methods["Apply.<*>"].end_line) == (2, 6)
    assert methods["Apply.*>"].text.startswith("  /**\n   * Alias for [[productR]].")


def test_a_c_function_named_through_a_macro_is_named_for_the_macro_s_argument() -> None:
    source = (
        "STBSP__PUBLICDEF int STB_SPRINTF_DECORATE(vsprintfcb)(STBSP_SPRINTFCB *callback, char *buf)\n"
        "{\n"
        "   return 0;\n"
        "}\n"
        "\n"
        "static int PREFIX(a, b)(int x)\n"  # two arguments: no one name in them
        "{\n"
        "   return x;\n"
        "}\n"
    )
    names = [c.symbol for c in chunk_source(source, "stb_sprintf.h", "c") if c.kind == "function"]
    assert names == ["vsprintfcb", "PREFIX"]


def test_a_rust_impl_for_a_reference_is_named_for_the_type_it_refers_to() -> None:
    source = (
        "impl<'a, W: Write> ser::Serializer for &'a mut Serializer<W> {\n"
        "    fn serialize_bool(self, value: bool) -> Result<()> {\n"
        "        Ok(())\n"
        "    }\n"
        "}\n"
        "\n"
        "impl IntoResponse for &'static str {\n"
        "    fn into_response(self) -> Response {\n"
        "        Cow::Borrowed(self).into_response()\n"
        "    }\n"
        "}\n"
    )
    methods = [c.qualified_name for c in chunk_source(source, "src/ser.rs", "rust") if c.kind == "method"]
    assert methods == ["Serializer.serialize_bool", "str.into_response"]


def test_a_rust_impl_for_a_type_written_with_its_path_is_named_for_the_type() -> None:
    source = (
        "impl ResponseBuilderExt for http::response::Builder {\n"
        "    fn url(self, url: Url) -> Self {\n"
        "        self.extension(ResponseUrl(url))\n"
        "    }\n"
        "}\n"
    )
    chunks = chunk_source(source, "src/response.rs", "rust")
    assert [(c.kind, c.symbol, c.qualified_name) for c in chunks] == [
        ("class", "Builder", "http.response.Builder"), ("method", "url", "http.response.Builder.url")]


def test_a_rust_doc_comment_above_attributes_belongs_to_the_item() -> None:
    source = (
        "use std::fmt;\n"
        "\n"
        "/// Extractor for state.\n"
        "#[derive(Debug, Clone)]\n"
        "pub struct State<S>(pub S);\n"
        "\n"
        "/// Makes a router.\n"
        "#[must_use]\n"
        "pub fn router() -> Router {\n"
        "    Router::new()\n"
        "}\n"
    )
    spans = {(c.kind, c.symbol): (c.start_line, c.end_line) for c in chunk_source(source, "state.rs", "rust")}
    assert spans[("class", "State")] == (3, 5) and spans[("function", "router")] == (7, 11)
    assert spans[("module", "")] == (1, 1)


def test_haskell_haddock_and_an_exported_arrow_keep_their_doc_comments() -> None:
    haskell = (
        "module Demo where\n"
        "\n"
        "-- | The layouts, each\n"
        "-- separated by |||.\n"
        "layout :: Layout\n"
        "layout = tiled ||| Full\n"
        "\n"
        "-- | Add two.\n"
        "add :: Int -> Int -> Int\n"
        "add x y = x + y\n"
    )
    spans = {c.symbol: (c.start_line, c.end_line) for c in chunk_source(haskell, "Demo.hs", "haskell")}
    assert spans["layout"] == (3, 6) and spans["add"] == (8, 10)
    typescript = "// Formats a price.\nexport const formatPrice = (cents: number) => `$${cents / 100}`;\n"
    (chunk,) = chunk_source(typescript, "price.ts", "typescript")
    assert (chunk.symbol, chunk.start_line) == ("formatPrice", 1)


def test_members_of_class_self_and_companion_objects_and_operators_are_named_for_what_they_are() -> None:
    ruby = (
        "class Base\n"
        "  class << self\n"
        "    CALLERS = [1].freeze\n"
        "\n"
        "    def reset!\n"
        "      @routes = {}\n"
        "    end\n"
        "  end\n"
        "\n"
        "  def self.[](*args)\n"
        "    new(*args)\n"
        "  end\n"
        "end\n"
    )
    names = {(c.kind, c.qualified_name) for c in chunk_source(ruby, "base.rb", "ruby")}
    # before: the first constant inside named `class << self` (`Base.CALLERS.reset!`), and `[]`
    # was called `singleton_method`
    assert {("method", "Base.reset!"), ("method", "Base.[]")} <= names
    kotlin = (
        "class Table(val name: String) {\n"
        "    private constructor(id: Int) : this(id.toString()) {\n"
        "        check(id > 0)\n"
        "    }\n"
        "\n"
        "    companion object {\n"
        "        fun create(): Table = Table(\"t\")\n"
        "    }\n"
        "}\n"
    )
    names = {(c.kind, c.qualified_name) for c in chunk_source(kotlin, "Table.kt", "kotlin")}
    assert {("method", "Table.constructor"), ("method", "Table.create")} <= names
    cpp = "struct Handle {\n  explicit operator bool() const {\n    return fd >= 0;\n  }\n  int fd;\n};\n"
    assert ("method", "Handle.operator bool") in {(c.kind, c.qualified_name) for c in chunk_source(cpp, "h.cc", "cpp")}


def test_a_typescript_function_and_its_overload_signatures_are_one_chunk() -> None:
    source = (
        "export function parse(input: string): Doc;\n"
        "export function parse(input: Buffer): Doc;\n"
        "export function parse(input: string | Buffer): Doc {\n"
        "  return new Doc(String(input));\n"
        "}\n"
        "\n"
        "export function print(doc: Doc): string {\n"
        "  return doc.text;\n"
        "}\n"
    )
    spans = [(c.symbol, c.start_line, c.end_line) for c in chunk_source(source, "parse.ts", "typescript")]
    assert spans == [("parse", 1, 5), ("print", 7, 9)]


def test_a_typescript_type_of_an_object_shape_is_a_class_and_other_aliases_are_not() -> None:
    source = (
        "/** How a request is retried. */\n"
        "export type RetryOptions = {\n"
        "  limit?: number;\n"
        "  methods?: string[];\n"
        "};\n"
        "\n"
        "export type Hooks = Partial<HookTable> & {\n"
        "  beforeRetry: BeforeRetryHook[];\n"
        "};\n"
        "\n"
        "export type Input = string | URL | Request;\n"
    )
    chunks = chunk_source(source, "options.ts", "typescript")
    classes = [(c.symbol, c.start_line, c.end_line) for c in chunks if c.kind == "class"]
    assert classes == [("RetryOptions", 1, 5), ("Hooks", 7, 9)]
    assert [c.kind for c in chunks if "type Input" in c.text] == ["module"]


def test_kotlin_the_grammar_cannot_read_leaves_its_class_parsed_and_its_text_as_written() -> None:
    source = (
        "class Dialect {\n"
        "    fun cast(e: Expression) = when (e) {\n"
        "        is Column<*> if e.isJson -> \"::jsonb\"\n"
        "        else -> \"\"\n"
        "    }\n"
        "\n"
        "    fun update(where: Op?) {\n"
        "        append(\"UPDATE\")\n"
        "        where?.let { append(it) }\n"
        "    }\n"
        "\n"
        "    class Options\n"
        "    private constructor(\n"
        "        val strings: Array<String>,\n"
        "    ) {\n"
        "        fun strings(): List<String> = strings.toList()\n"
        "    }\n"
        "}\n"
    )
    chunks = chunk_source(source, "Dialect.kt", "kotlin")
    methods = {c.qualified_name: c for c in chunks if c.kind == "method"}
    # the guard or the constructor made them functions `cast`, `update` and `strings`
    assert set(methods) == {"Dialect.cast", "Dialect.update", "Dialect.Options.strings"}
    assert [(c.kind, c.start_line, c.end_line) for c in chunks if c.symbol == "Options"] == [("class", 12, 17)]
    assert "        is Column<*> if e.isJson -> \"::jsonb\"" in methods["Dialect.cast"].text.split("\n")
    assert "        where?.let { append(it) }" in methods["Dialect.update"].text.split("\n")
    # What the parser is shown instead: the same length and lines, and Kotlin it reads. (A
    # statement starting with `where` is an error wherever it is; in a longer class, exposed's
    # `FunctionProvider`, the error took the whole file.)
    spec, parser = BY_NAME["kotlin"], parser_for("kotlin")
    shown = source
    for pattern, replacement in spec.rewrites:
        shown = pattern.sub(replacement, shown)
    assert len(shown) == len(source) and shown.count("\n") == source.count("\n")
    assert parser.parse(source.encode()).root_node.has_error
    assert not parser.parse(shown.encode()).root_node.has_error
    assert "append(\"UPDATE\")\n       ;where?.let" in shown
    # `where` as a type constraint is Kotlin the grammar reads: it is left alone
    constraint = "fun <T> max(a: T, b: T): T\n    where T : Comparable<T> {\n    return a\n}\n"
    assert [(c.kind, c.symbol) for c in chunk_source(constraint, "max.kt", "kotlin")] == [("function", "max")]
    assert not parser.parse(constraint.encode()).root_node.has_error


def test_names_quoted_in_backticks_are_named_without_them() -> None:
    kotlin = (
        "internal class `-JsonUtf8Reader` : JsonReader {\n"
        "  fun peek(): Int = 1\n"
        "}\n"
        "\n"
        "class ReaderTest {\n"
        "  @Test fun `parses an empty body`() {\n"
        "    check(true)\n"
        "  }\n"
        "}\n"
    )
    names = {c.qualified_name for c in chunk_source(kotlin, "Reader.kt", "kotlin") if c.kind != "module"}
    assert names == {"-JsonUtf8Reader", "-JsonUtf8Reader.peek", "ReaderTest", "ReaderTest.parses an empty body"}
    scala = "object Json {\n  def `type`: String = \"json\"\n}\n"
    assert "Json.type" in {c.qualified_name for c in chunk_source(scala, "Json.scala", "scala")}


def test_a_swift_computed_property_is_a_method_and_a_stored_one_is_not() -> None:
    source = (
        "extension JSON {\n"
        "    /// The value as a dictionary, or nil.\n"
        "    public var dictionaryObject: [String: Any]? {\n"
        "        get { return object as? [String: Any] }\n"
        "        set { object = newValue }\n"
        "    }\n"
        "    public var count: Int { return 1 }\n"
        "    public var plain: Int = 3\n"
        "}\n"
    )
    methods = [(c.qualified_name, c.start_line, c.end_line) for c in chunk_source(source, "JSON.swift", "swift")
               if c.kind == "method"]
    assert methods == [("JSON.dictionaryObject", 2, 6), ("JSON.count", 7, 7)]


def test_a_c_type_without_a_name_in_a_long_function_is_no_definition() -> None:
    # nginx's parsers declare their state as `enum { sw_start = 0, ... } state;`: cut at the
    # definitions it holds, each long parser had a "class" named for its first state
    states = "".join(f"        sw_state{n},\n" for n in range(10))
    cases = "".join(f"        case sw_state{n}:\n            state = sw_state{n + 1};\n            break;\n"
                    for n in range(60))
    source = (
        "ngx_int_t\n"
        "ngx_http_parse_request_line(ngx_http_request_t *r, ngx_buf_t *b)\n"
        "{\n"
        "    enum {\n"
        "        sw_start = 0,\n"
        f"{states}"
        "    } state;\n"
        "    struct point { int x; int y; } p;\n"
        "    switch (state) {\n"
        f"{cases}"
        "    }\n"
        "    return NGX_OK;\n"
        "}\n"
        "\n"
        "enum { UV_HANDLE_CLOSING = 1, UV_HANDLE_CLOSED = 2 };\n"
    )
    chunks = chunk_source(source, "ngx_http_parse.c", "c")
    names = {(c.kind, c.qualified_name) for c in chunks}
    assert ("function", "ngx_http_parse_request_line") in names
    assert not any(name.endswith("sw_start") for _, name in names)
    assert ("class", "ngx_http_parse_request_line.point") in names  # a type with a name is one
    assert ("class", "UV_HANDLE_CLOSING") in names  # at the top, an anonymous enum is its members' type
    assert "sw_start = 0" in "\n".join(c.text for c in chunks)


def test_a_lua_module_s_functions_are_named_for_it_not_for_its_local_table() -> None:
    # every Neovim plugin writes `local M = {} ... return M`: its functions had all been `M.open`,
    # `M.setup`, which a lookup of `window.open` or an editor's symbol list cannot tell apart
    source = (
        "local M = {}\n"
        "\n"
        "function M.open(opts)\n"
        "  return opts\n"
        "end\n"
        "\n"
        "M.close = function()\n"
        "end\n"
        "\n"
        "return M\n"
    )
    def names(text: str, path: str) -> set[str]:
        return {c.qualified_name for c in chunk_source(text, path, "lua") if c.kind != "module"}

    assert names(source, "lua/trouble/view/window.lua") == {"window.open", "window.close"}
    assert names(source, "lua/trouble/sources/init.lua") == {"sources.open", "sources.close"}  # its folder's
    # a table with a name of its own keeps it, and one the file does not return is not the module
    assert names(source.replace("M", "Runner"), "lua/lazy/manage/runner.lua") == {"Runner.open", "Runner.close"}
    assert names(source.replace("return M\n", "return {}\n"), "lua/x.lua") == {"M.open", "M.close"}


def test_haskell_s_hsc_files_are_haskell_with_hsc2hs_directives_read_past() -> None:
    # the network package's `Network/Socket/*.hsc` had been indexed as text windows
    source = (
        "module Network.Socket.Info where\n"
        "\n"
        "#include \"HsNet.h\"\n"
        "\n"
        "-- | Resolve a host name.\n"
        "getAddrInfo :: Maybe HostName -> IO [AddrInfo]\n"
        "getAddrInfo host = do\n"
        "    ptr <- (#peek struct addrinfo, ai_next) ptr_ai\n"
        "    flags <- return (#const AI_PASSIVE)\n"
        "    return []\n"
        "\n"
        "defaultHints :: AddrInfo\n"
        "defaultHints = AddrInfo { addrFlags = #{const AI_PASSIVE} }\n"
    )
    assert language_for("Network/Socket/Info.hsc", source) == "haskell"
    chunks = chunk_source(source, "Network/Socket/Info.hsc", "haskell")
    found = {(c.kind, c.qualified_name): c for c in chunks}
    assert ("function", "getAddrInfo") in found and ("function", "defaultHints") in found
    assert "(#peek struct addrinfo, ai_next)" in found[("function", "getAddrInfo")].text  # as written


def test_a_swift_extension_of_a_nested_type_is_named_for_it() -> None:
    # async-http-client's `extension HTTPClient.Configuration`: its members had been named as
    # `HTTPClient`'s, and a lookup of `HTTPClient` put four such extensions after the class
    source = (
        "extension HTTPClient.Configuration: Sendable {}\n"
        "\n"
        "extension HTTPClient.EventLoopGroupProvider {\n"
        "    public static var singleton: Self { .shared(HTTPClient.defaultEventLoopGroup) }\n"
        "}\n"
        "\n"
        "extension HTTPClient {\n"
        "    func shutdown() {}\n"
        "}\n"
        "\n"
        "extension Array<Int> {\n"
        "    func total() -> Int { 0 }\n"
        "}\n"
    )
    found = {(c.kind, c.symbol, c.qualified_name) for c in chunk_source(source, "HTTPClient.swift", "swift")}
    assert found == {
        ("class", "Configuration", "HTTPClient.Configuration"),
        ("class", "EventLoopGroupProvider", "HTTPClient.EventLoopGroupProvider"),
        ("method", "singleton", "HTTPClient.EventLoopGroupProvider.singleton"),
        ("class", "HTTPClient", "HTTPClient"),
        ("method", "shutdown", "HTTPClient.shutdown"),
        ("class", "Array", "Array"),
        ("method", "total", "Array.total"),
    }


def test_a_csharp_property_with_accessor_bodies_is_a_method_and_an_auto_property_is_not() -> None:
    source = (
        "namespace Dapper {\n"
        "    public static partial class Settings {\n"
        "        /// <summary>The fetch size for Oracle readers.</summary>\n"
        "        public static long FetchSize {\n"
        "            get { return s_FetchSize; }\n"
        "            set { if (value < 0) throw new ArgumentOutOfRangeException(); s_FetchSize = value; }\n"
        "        }\n"
        "        public static int Timeout { get; set; }\n"
        "        public static bool Shared => s_FetchSize > 0;\n"
        "        public static void Reset() { Timeout = 0; }\n"
        "    }\n"
        "}\n"
    )
    methods = [(c.qualified_name, c.start_line, c.end_line) for c in chunk_source(source, "Settings.cs", "csharp")
               if c.kind == "method"]
    assert methods == [("Dapper.Settings.FetchSize", 3, 7), ("Dapper.Settings.Reset", 10, 10)]


def test_a_ruby_class_made_by_struct_new_with_a_block_holds_its_methods() -> None:
    source = (
        "module Geometry\n"
        "  # A point in the plane.\n"
        "  Point = Struct.new(:x, :y) do\n"
        "    def distance\n"
        "      Math.sqrt(x * x + y * y)\n"
        "    end\n"
        "  end\n"
        "\n"
        "  Handler = Class.new(Base) do |klass| # made at load time\n"
        "    def call(env) = env\n"
        "  end\n"
        "\n"
        "  ORIGIN = points.map do |p|\n"
        "    p\n"
        "  end\n"
        "end\n"
    )
    chunks = chunk_source(source, "geometry.rb", "ruby")
    found = [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks if c.kind != "module"]
    assert found == [
        ("class", "Geometry", 1, 16),
        ("class", "Geometry.Point", 2, 7),
        ("method", "Geometry.Point.distance", 4, 6),
        ("class", "Geometry.Handler", 9, 11),
        ("method", "Geometry.Handler.call", 10, 10),
    ]
    point = next(c for c in chunks if c.qualified_name == "Geometry.Point")
    assert point.text.startswith("  # A point in the plane.\n  Point = Struct.new(:x, :y) do\n")  # the code as written


def test_a_ruby_class_made_by_the_project_s_own_struct_over_several_lines_holds_its_methods() -> None:
    source = (
        "module Faraday\n"
        "  Env = Options.new(:method, :request_body,\n"
        "                    :url, :request) do\n"
        "    def success?\n"
        "      status < 400\n"
        "    end\n"
        "  end\n"
        "\n"
        "  KeyMap = Hash.new do |map, key|\n"
        "    map[key] = key.to_s\n"
        "  end\n"
        "end\n"
    )
    chunks = chunk_source(source, "env.rb", "ruby")
    found = [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks if c.kind != "module"]
    assert found == [
        ("class", "Faraday", 1, 12),
        ("class", "Faraday.Env", 2, 7),
        ("method", "Faraday.Env.success?", 4, 6),
        ("class", "Faraday.KeyMap", 9, 11),
    ]
    env = next(c for c in chunks if c.qualified_name == "Faraday.Env")
    assert env.text.startswith("  Env = Options.new(:method, :request_body,\n                    :url, :request) do\n")


def test_a_ruby_class_named_with_its_scope_is_named_in_full() -> None:
    source = (
        "class HTTParty::CookieHash < Hash\n"
        "  def add_cookies(data)\n"
        "    merge!(data)\n"
        "  end\n"
        "end\n"
    )
    found = [(c.kind, c.symbol, c.qualified_name) for c in chunk_source(source, "cookie_hash.rb", "ruby")]
    assert found == [("class", "CookieHash", "HTTParty.CookieHash"),
                     ("method", "add_cookies", "HTTParty.CookieHash.add_cookies")]


def test_destructuring_defines_no_function_and_qualifies_none() -> None:
    source = (
        "it('merges state', () => {\n"
        "  const { setState, getState } = create((set, get) => ({\n"
        "    value: 1,\n"
        "    reset: () => set({ value: 0 }),\n"
        "  }))\n"
        "  const [state] = useActionState(() => {}, 'initial')\n"
        "  const increment = wrap(() => setState(1))\n"
        "})\n"
    )
    found = [(c.kind, c.qualified_name, c.start_line) for c in chunk_source(source, "store.test.ts", "typescript")
             if c.kind != "module"]
    assert found == [("function", "reset", 4), ("function", "increment", 7)]


def test_a_bats_file_is_bash_and_each_test_a_function_named_for_it() -> None:
    source = (
        "#!/usr/bin/env bats\n"
        "\n"
        "load test_helper\n"
        "\n"
        "create_executable() {\n"
        "  touch \"$1\"\n"
        "}\n"
        "\n"
        "# runs the shim\n"
        "@test \"supports ruby -S <cmd>\" {\n"
        "  run rbenv exec ruby -S rake\n"
        "  assert_success\n"
        "}\n"
    )
    assert language_for("test/exec.bats") == "bash"
    assert language_for("test/exec", "#!/usr/bin/env bats\n") == "bash"
    chunks = chunk_source(source, "test/exec.bats", "bash")
    found = [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunks if c.kind != "module"]
    assert found == [("function", "create_executable", 5, 7), ("function", "test_supports_ruby__S__cmd_", 9, 13)]
    assert chunks[-1].text.startswith("# runs the shim\n@test \"supports ruby -S <cmd>\" {\n")  # as written


def test_a_cpp_function_behind_a_macro_is_named_for_itself_not_its_return_type() -> None:
    source = (
        "SPDLOG_INLINE std::shared_ptr<logger> get(const std::string &name) {\n"
        "    return registry::instance().get(name);\n"
        "}\n"
        "\n"
        "GTEST_API_ FailureReporterInterface* GetFailureReporter() {\n"
        "    return reporter;\n"
        "}\n"
        "\n"
        "struct flag {\n"
        "    operator bool() const { return set; }\n"
        "};\n"
    )
    names = [(c.kind, c.symbol) for c in chunk_source(source, "registry-inl.h", "cpp")]
    assert names == [("function", "get"), ("function", "GetFailureReporter"), ("class", "flag"),
                     ("method", "operator bool")]
    qualified = "bool SPDLOG_INLINE thread_pool::process_next_msg_() {\n    return true;\n}\n"
    assert [c.qualified_name for c in chunk_source(qualified, "thread_pool-inl.h", "cpp")] == [
        "thread_pool.process_next_msg_"]


def test_an_export_macro_in_a_class_head_leaves_it_a_class() -> None:
    source = (
        "class SPDLOG_API pattern_formatter final : public formatter {\n"
        "public:\n"
        "    void format(const details::log_msg &msg, memory_buf_t &dest) override;\n"
        "};\n"
        "struct FMT_API format_error : std::runtime_error {};\n"
    )
    found = [(c.kind, c.qualified_name) for c in chunk_source(source, "pattern_formatter.h", "cpp")]
    assert found == [("class", "pattern_formatter"), ("class", "format_error")]


def test_macros_before_a_declaration_or_in_an_if_are_read_past() -> None:
    # CLI11's attribute macros before members' types had made its `class App` (1,200 lines) a
    # function named after a member; fmt's `FMT_CONSTEXPR` before a constructor named it for the
    # member it initialises, and `if FMT_CONSTEXPR20 (...)` cost a class its methods
    source = (
        "namespace CLI {\n"
        "class App {\n"
        "  public:\n"
        "    virtual ~App() = default;\n"
        "    CLI11_NODISCARD char **ensure_utf8(char **argv);\n"
        "    template <typename Arg>\n"
        "    FMT_CONSTEXPR App(const Arg& arg) : name_(arg) {}\n"
        "    template <typename T> void push(const T& arg) {\n"
        "        if FMT_CONSTEXPR20 (need_copy<T>::value) {\n"
        "            store(arg);\n"
        "        }\n"
        "    }\n"
        "    CLI11_NODISCARD bool parsed() const { return parsed_ > 0; }\n"
        "};\n"
        "CLI11_INLINE void TriggerOn(App *trigger_app, App *app_to_enable);\n"
        "}  // namespace CLI\n"
    )
    chunks = chunk_source(source, "include/CLI/App.hpp", "cpp")
    found = [(c.kind, c.qualified_name) for c in chunks if c.kind != "module"]
    assert found == [("class", "CLI.App"), ("method", "CLI.App.~App"), ("method", "CLI.App.App"),
                     ("method", "CLI.App.push"), ("method", "CLI.App.parsed")]
    assert "FMT_CONSTEXPR App(const Arg& arg)" in chunks[3].text  # the code as written


def test_a_macro_between_parameters_and_body_is_read_past() -> None:
    source = (
        "namespace spdlog {\n"
        "namespace details {\n"
        "SPDLOG_INLINE std::tm gmtime(const std::time_t &time_tt) SPDLOG_NOEXCEPT {\n"
        "    return tm;\n"
        "}\n"
        "SPDLOG_INLINE size_t thread_id() SPDLOG_NOEXCEPT;\n"
        "}\n"
        "}\n"
    )
    chunks = chunk_source(source, "os-inl.h", "cpp")
    assert [(c.kind, c.qualified_name, c.start_line) for c in chunks if c.kind != "module"] == [
        ("function", "spdlog.details.gmtime", 3)]
    assert "SPDLOG_NOEXCEPT {" in chunks[-1].text  # the code as written


def test_a_syntax_error_costs_a_cpp_file_neither_its_namespaces_nor_its_definitions() -> None:
    # `SPDLOG_SHORT_LEVEL_NAMES` is a macro tree-sitter cannot expand: the file has an error, and
    # parsed a declaration at a time it would find the same functions without their namespaces
    source = (
        "namespace spdlog {\n"
        "namespace level {\n"
        "\n"
        "static const char *short_level_names[] SPDLOG_SHORT_LEVEL_NAMES;\n"
        "\n"
        "const char *to_short_c_str(level_enum l) {\n"
        "    return short_level_names[l];\n"
        "}\n"
        "\n"
        "level_enum from_str(const std::string &name) {\n"
        "    return off;\n"
        "}\n"
        "}  // namespace level\n"
        "}  // namespace spdlog\n"
    )
    assert parser_for("cpp").parse(source.encode()).root_node.has_error
    found = [c.qualified_name for c in chunk_source(source, "common-inl.h", "cpp") if c.kind != "module"]
    assert found == ["spdlog.level.to_short_c_str", "spdlog.level.from_str"]


def test_namespaces_anonymous_nested_and_dotted() -> None:
    cpp = "namespace {\nvoid helper() {}\n}\nnamespace fmt::detail {\nvoid write() {}\n}\n"
    assert [c.qualified_name for c in chunk_source(cpp, "os.cc", "cpp") if c.kind != "module"] == [
        "helper", "fmt.detail.write"]
    csharp = ("namespace Dapper.EntityFramework {\n    public class DbGeographyHandler {\n"
              "        void Parse() {}\n    }\n}\n")
    chunks = chunk_source(csharp, "DbGeographyHandler.cs", "csharp")
    assert [c.qualified_name for c in chunks if c.kind != "module"] == [
        "Dapper.EntityFramework.DbGeographyHandler", "Dapper.EntityFramework.DbGeographyHandler.Parse"]


def test_a_doc_block_goes_with_the_assignment_it_documents_even_a_blank_line_above_it() -> None:
    source = (
        "/*!\n"
        " * express\n"
        " */\n"
        "\n"
        "'use strict';\n"
        "\n"
        "/**\n"
        " * Send a response.\n"
        " */\n"
        "\n"
        "res.send = function send(body) {\n"
        "  return this;\n"
        "};\n"
        "\n"
        "// Parse a query string.\n"
        "exports.parse = (s) => s.split('&');\n"
        "\n"
        "// a note about what follows, not a doc\n"
        "\n"
        "function plain() {}\n"
    )
    for language in ("javascript", "typescript"):
        spans = {c.qualified_name: (c.start_line, c.end_line) for c in chunk_source(source, "res.js", language)}
        assert spans["res.send"] == (7, 13)  # was 11-13: its doc was left in a module chunk
        assert spans["exports.parse"] == (15, 16)  # was 16-16
        assert spans["plain"] == (20, 20)  # a plain comment must touch its definition
    java = "class A {\n    /** Adds. */\n\n    int add(int a) { return a; }\n}\n"
    spans = {(c.qualified_name, c.start_line, c.end_line) for c in chunk_source(java, "A.java", "java")}
    assert ("A.add", 2, 4) in spans


def test_a_haskell_operator_defined_infix_is_one_chunk_with_its_signature() -> None:
    source = (
        "module M where\n"
        "\n"
        "-- | Run the hook when the query holds.\n"
        "(-->) :: Query Bool -> ManageHook -> ManageHook\n"
        "p --> f = p >>= \\b -> if b then f else idHook\n"
        "\n"
        "a <+> b = mappend a b\n"
        "\n"
        "x `orElse` y = x\n"
    )
    found = [(c.kind, c.symbol, c.start_line, c.end_line) for c in chunk_source(source, "M.hs", "haskell")]
    # were `(-->)` 3-4, then `function` 5-9: the definitions without signatures merged into it
    assert found[1:] == [("function", "-->", 3, 5), ("function", "<+>", 7, 7), ("function", "orElse", 9, 9)]
    record = "data XConfig = XConfig\n  { keys :: !(XConfig -> Map KeySym (X ()))\n  , name :: String\n  }\n"
    # a field's function type was a method named `function`
    assert [c.kind for c in chunk_source(record, "Core.hs", "haskell")] == ["class"]


def test_names_of_strings_operators_and_scala_package_objects() -> None:
    zig = 'test "url: parse a.b" {\n    try std.testing.expect(parse("a") == 97);\n}\n'
    assert [(c.symbol, c.qualified_name) for c in chunk_source(zig, "url.zig", "zig")] == [
        ('"url: parse a.b"', '"url: parse a.b"')]  # was `b"` in `"url. parse a.b"`
    scala = "class Chain[A] {\n  def :+(a: A): Chain[A] = this\n  def ::(a: A): Chain[A] = this\n}\n"
    methods = {(c.symbol, c.qualified_name) for c in chunk_source(scala, "Chain.scala", "scala") if c.kind == "method"}
    assert methods == {(":+", "Chain.:+"), ("::", "Chain.::")}  # were `+` and nameless `Chain`
    package = "package object cats {\n  def pure[A](a: A): Id[A] = a\n}\n"
    assert {(c.kind, c.qualified_name) for c in chunk_source(package, "package.scala", "scala")} == {
        ("class", "cats"), ("method", "cats.pure")}  # was a function `pure` in a module chunk
    lua = "function M:read(path)\n  return path\nend\n"
    assert [(c.symbol, c.qualified_name) for c in chunk_source(lua, "m.lua", "lua")] == [("read", "M.read")]


def test_the_methods_of_an_object_assigned_to_a_const_are_qualified_by_it() -> None:
    source = "export const api = {\n  get(url) {\n    return fetch(url);\n  },\n  post: async (url) => send(url),\n};\n"
    for language in ("javascript", "typescript"):
        names = {c.qualified_name for c in chunk_source(source, "api.js", language) if c.kind == "function"}
        assert names == {"api.get", "api.post"}


def test_a_c_function_like_macro_is_a_function_with_its_comment() -> None:
    source = (
        "#include <stddef.h>\n"
        "\n"
        "/* The struct that holds `ptr`. */\n"
        "#define container_of(ptr, type, member) \\\n"
        "  ((type *) ((char *) (ptr) - offsetof(type, member)))\n"
        "\n"
        "#define BUFFER_SIZE 4096\n"
    )
    for language in ("c", "cpp"):
        spans = {(c.kind, c.symbol): (c.start_line, c.end_line) for c in chunk_source(source, "util.h", language)}
        assert spans[("function", "container_of")] == (3, 5)
        assert ("function", "BUFFER_SIZE") not in spans  # a constant stays in the module's chunk


def test_a_c_function_is_named_for_itself_not_for_a_macro_before_its_name() -> None:
    source = "static void * CJSON_CDECL internal_malloc(size_t size)\n{\n    return malloc(size);\n}\n"
    assert [(c.kind, c.symbol) for c in chunk_source(source, "cJSON.c", "c")] == [("function", "internal_malloc")]
    main = "int CJSON_CDECL main(void)\n{\n    return 0;\n}\n"  # parsed as `int CJSON_CDECL;` and `main (void) {...}`
    assert [(c.kind, c.symbol) for c in chunk_source(main, "test.c", "c")] == [("function", "main")]


def test_a_class_field_holding_a_function_is_a_method() -> None:
    typescript = (
        "class Context {\n"
        "  #status = 200\n"
        "  /** Sends JSON. */\n"
        "  json = (object: unknown, status?: number) => {\n"
        "    return this.newResponse(JSON.stringify(object), status)\n"
        "  }\n"
        "}\n"
    )
    for language in ("typescript", "javascript"):
        source = typescript.replace(": unknown", "").replace("status?: number", "status")
        spans = {(c.kind, c.qualified_name): (c.start_line, c.end_line) for c in chunk_source(source, "c.ts", language)}
        assert spans[("method", "Context.json")] == (3, 6)
        assert ("method", "Context.#status") not in spans  # a field holding a value stays in the outline


def test_a_java_enum_constant_with_a_body_is_a_class_of_its_own() -> None:
    source = (
        "public enum State {\n"
        "    /** Inside the body. */\n"
        "    InBody {\n"
        "        @Override\n"
        "        boolean process(Token t) { return true; }\n"
        "    },\n"
        "    Done;\n"
        "\n"
        "    abstract boolean process(Token t);\n"
        "}\n"
    )
    spans = {(c.kind, c.qualified_name): (c.start_line, c.end_line) for c in chunk_source(source, "State.java", "java")}
    assert spans[("class", "State.InBody")] == (2, 6) and spans[("method", "State.InBody.process")] == (4, 5)
    assert ("class", "State.Done") not in spans


def test_every_line_number_a_chunk_tells_is_the_files_and_it_tells_none_it_cannot() -> None:
    from codesearch.listing import snippet
    from codesearch.records import line_numbers

    source = ('import os\nimport sys\n\n\nclass Invoice:\n    """An invoice."""\n\n    def total(self):\n'
              '        return sum(self.items)\n\n    def render(self):\n        return str(self)\n\n\n'
              'CONFIG = os.environ.get("CONFIG")\nmain(sys.argv)\n')
    file_lines = source.split("\n")
    chunks = chunk_source(source, "app.py", "python")
    gapped = 0
    for chunk in chunks:
        numbers = line_numbers(chunk)
        assert len(numbers) == len(chunk.text.split("\n")) and numbers[0] == chunk.start_line
        for number, line in zip(numbers, chunk.text.split("\n"), strict=True):
            assert number is None or file_lines[number - 1] == line, (chunk.symbol, number, line)
        gapped += None in numbers
    assert gapped == 2  # the class's outline and the top-level code around it
    outline = next(c for c in chunks if c.kind == "class")
    shown = snippet(outline, re.compile("render"))
    assert (shown[0], shown[-1]) == ((5, "class Invoice:"), (None, "    def render(self):"))  # not 5 + 5 = 10
    assert file_lines[10] == "    def render(self):"  # it is line 11: the outline leaves out `total`'s body


def _notebook(cells: list[tuple[str, str]], language: str = "python", outputs: list | None = None) -> str:
    """A notebook as Jupyter writes it (nbformat: keys sorted, one space of indent, each source line a string)."""
    return json.dumps({
        "cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
                   **({"execution_count": None, "outputs": outputs or []} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": {"kernelspec": {"display_name": language, "language": language, "name": f"{language}3"}},
        "nbformat": 4, "nbformat_minor": 5}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_a_notebooks_cells_are_chunked_on_the_lines_of_the_file_that_hold_them() -> None:
    from codesearch.indexer.chunker import readable
    from codesearch.indexer.notebooks import notebook_source

    plot = [{"data": {"image/png": "iVBORw0KGgo" * 50_000}, "metadata": {}, "output_type": "display_data"}]
    text = _notebook([("markdown", "# Churn\n\nScore each customer."),
                      ("code", "import math\n\ndef churn_probability(row, weights):\n"
                               "    z = sum(w * row[k] for k, w in weights.items())\n"
                               "    return 1 / (1 + math.exp(-z))"),
                      ("code", "scores = [churn_probability(r, W) for r in rows]")], outputs=plot)
    file_lines = text.split("\n")
    language, source = readable(text, "analysis/Churn.ipynb")
    assert language == "python" and len(source.split("\n")) == len(file_lines) and "iVBOR" not in source
    chunks = chunk_source(source, "analysis/Churn.ipynb", language)
    function = next(c for c in chunks if c.symbol == "churn_probability")
    assert function.text.startswith("def churn_probability(row, weights):\n    z = sum(")
    held = json.loads(file_lines[function.start_line - 1].strip().rstrip(","))  # the JSON line that holds it
    assert held == "def churn_probability(row, weights):\n"
    module = next(c for c in chunks if c.kind == "module")
    assert "# # Churn" in module.text and "# Score each customer." in module.text  # markdown as comments
    assert "scores = [churn_probability(r, W) for r in rows]" in module.text
    # a kernel in a language without a grammar is cut into windows; a cell written as one JSON string
    # with its lines inside, or a file that is no notebook, cannot be placed on the file's lines
    assert readable(_notebook([("code", "x <- c(1, 2)\nmean(x)")], language="R"), "stats.ipynb")[0] == "text"
    one_string = json.loads(text)
    one_string["cells"][1]["source"] = "".join(one_string["cells"][1]["source"])
    assert notebook_source(json.dumps(one_string, indent=1)) is None
    assert notebook_source("{not json") is None and notebook_source("[1, 2]") is None


def test_a_zig_function_that_returns_a_struct_is_a_generic_type_with_methods() -> None:
    source = (
        "pub fn Pool(comptime T: type) type {\n"
        "    return struct {\n"
        "        items: []T,\n"
        "        const Self = @This();\n"
        "\n"
        "        pub fn acquire(self: *Self) T {\n"
        "            return self.items[0];\n"
        "        }\n"
        "    };\n"
        "}\n"
        "\n"
        "fn helper() u8 {\n"
        "    return 1;\n"
        "}\n"
    )
    found = [(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunk_source(source, "pool.zig", "zig")]
    # was one function `Pool` of all ten lines: a generic type's methods were no chunks of their own
    assert ("class", "Pool", 1, 10) in found
    assert ("method", "Pool.acquire", 6, 8) in found
    assert ("function", "helper", 12, 14) in found


def test_a_go_method_of_a_generic_type_belongs_to_the_type_not_its_last_parameter() -> None:
    source = (
        "type FlagBase[T any, V Value] struct {\n\tvalue T\n}\n\n"
        "func (f *FlagBase[T, V]) Names() []string {\n\treturn nil\n}\n"
    )
    methods = [c.qualified_name for c in chunk_source(source, "flag.go", "go") if c.kind == "method"]
    assert methods == ["FlagBase.Names"]  # was `V.Names`


def test_a_cpp_member_defined_outside_its_class_template_is_named_without_type_arguments() -> None:
    source = (
        "template <typename T, size_t SIZE>\n"
        "void basic_memory_buffer<T, SIZE>::grow(size_t size) {\n  reserve(size);\n}\n\n"
        "template <typename Rep>\n"
        "auto formatter<std::chrono::duration<Rep>, char>::format(int x) -> int {\n  return x;\n}\n\n"
        "bool operator<(const point& a, const point& b) {\n  return a.x < b.x;\n}\n"
    )
    names = [(c.symbol, c.qualified_name) for c in chunk_source(source, "format.h", "cpp")]
    # were `basic_memory_buffer<T, SIZE>.grow` and `formatter<std.chrono.duration<Rep>, char>.format`
    assert ("grow", "basic_memory_buffer.grow") in names
    assert ("format", "formatter.format") in names
    assert ("operator<", "operator<") in names


def test_a_rust_blanket_impl_is_named_for_its_trait() -> None:
    source = (
        "impl<F, Fut> Handler<Fut> for F where F: FnOnce() -> Fut {\n    fn call(self) {}\n}\n\n"
        "impl<T> From<T> for Wrapper<T> {\n    fn from(t: T) -> Self { Wrapper(t) }\n}\n"
    )
    names = [(c.kind, c.qualified_name) for c in chunk_source(source, "handler.rs", "rust")]
    # were a class `F` and `F.call`: the impl is for any type
    assert names == [("class", "Handler"), ("method", "Handler.call"), ("class", "Wrapper"), ("method", "Wrapper.from")]


def test_a_haskell_doc_comment_a_blank_line_above_its_definition_is_its_doc() -> None:
    source = (
        "module M where\n\n"
        "-- | @sepBy p sep@ parses zero or more occurrences of @p@, separated by @sep@.\n"
        "--\n"
        "-- >  commaSep p  = p `sepBy` (symbol \",\")\n\n"
        "sepBy :: Parser a -> Parser sep -> Parser [a]\n"
        "{-# INLINABLE sepBy #-}\n"
        "sepBy p sep = sepBy1 p sep <|> return []\n\n"
        "-- a remark, not a doc\n\n"
        "other :: Int\nother = 1\n"
    )
    spans = {c.symbol: (c.start_line, c.end_line) for c in chunk_source(source, "Combinator.hs", "haskell")}
    # the doc had stayed in the module chunk, which then answered every question about `sepBy`
    assert spans["sepBy"] == (3, 9)
    assert spans["other"] == (13, 14)


def test_a_csharp_delegate_is_a_type_with_its_doc() -> None:
    source = ("namespace MediatR;\n\nusing System.Threading;\n\n"
              "/// <summary>The next step of the pipeline</summary>\n"
              "public delegate Task<TResponse> RequestHandlerDelegate<TResponse>(CancellationToken t = default);\n")
    found = [(c.kind, c.qualified_name, c.start_line) for c in chunk_source(source, "IPipelineBehavior.cs", "csharp")]
    assert ("class", "RequestHandlerDelegate", 5) in found  # was in the module chunk with the `using` lines


def test_a_vue_or_svelte_component_s_scripts_are_code_and_its_markup_stays_searchable() -> None:
    vue = (
        "<template>\n  <div class=\"login-form\">\n    <button @click=\"submitLogin\">Sign in</button>\n"
        "  </div>\n</template>\n\n"
        "<script setup lang=\"ts\">\nimport { ref } from 'vue'\n\nconst password = ref<string>('')\n\n"
        "/** Sends the credentials to the server. */\n"
        "async function submitLogin(): Promise<void> {\n  await fetch('/login', { body: password.value })\n}\n"
        "</script>\n\n<style scoped>\n.login-form { display: flex; }\n</style>\n"
    )
    chunks = chunk_text(vue, "src/LoginForm.vue")
    assert {c.language for c in chunks} == {"vue"}
    (submit,) = [c for c in chunks if c.kind == "function"]
    assert (submit.symbol, submit.start_line, submit.end_line) == ("submitLogin", 12, 15)
    assert submit.text.startswith("/** Sends the credentials")
    # the template and the styles are in the module's chunks, as written
    markup = "\n".join(c.text for c in chunks if c.kind == "module")
    assert '<button @click="submitLogin">Sign in</button>' in markup and ".login-form { display: flex; }" in markup
    svelte = (
        "<script context=\"module\">\n  export const prerender = true\n</script>\n\n"
        "<script>\n  export let items = []\n"
        "  function addItem(name) {\n    items = [...items, name]\n  }\n</script>\n\n"
        "{#each items as item}\n  <li>{item}</li>\n{/each}\n"
    )
    chunks = chunk_text(svelte, "src/List.svelte")
    assert [(c.symbol, c.start_line) for c in chunks if c.kind == "function"] == [("addItem", 7)]
    assert any("{#each items as item}" in c.text for c in chunks)
    # a component with no script is its markup alone
    assert [c.kind for c in chunk_text("<template>\n  <p>Hello</p>\n</template>\n", "Hello.vue")] == ["module"]


def test_a_yacc_or_lex_file_s_c_is_chunked_and_its_grammar_stays_searchable() -> None:
    # jq's `parser.y`: `jq_parse` after the rules had been in a 50-line window of text
    yacc = (
        "%{\n#include <stdio.h>\nstatic int depth = 0;\n"
        "static int check_key(const char *key) {\n  return key[0] != '$';\n}\n%}\n"
        "%token IDENT\n%left '|'\n"
        "%%\n"
        "Exp: Exp '|' Exp { $$ = gen_pipe($1, $3); }\n"
        "   | IDENT { $$ = gen_ident($1); }\n"
        ";\n"
        "%%\n"
        "/* Parses a jq program into a block. */\n"
        "int jq_parse(struct locfile *locations, block *answer) {\n  return yyparse(answer, locations);\n}\n"
    )
    chunks = chunk_text(yacc, "src/parser.y")
    assert {c.language for c in chunks} == {"yacc"}
    assert [(c.symbol, c.start_line, c.end_line) for c in chunks if c.kind == "function"] == [
        ("check_key", 4, 6), ("jq_parse", 15, 18)]
    assert any("Exp: Exp '|' Exp { $$ = gen_pipe($1, $3); }" in c.text for c in chunks if c.kind == "module")
    lex = "%{\n#include \"parser.h\"\n%}\n%%\n\"|\" { return '|'; }\n%%\nint yywrap(void) {\n  return 1;\n}\n"
    chunks = chunk_text(lex, "src/lexer.l")
    assert [(c.language, c.symbol, c.start_line) for c in chunks if c.kind == "function"] == [("lex", "yywrap", 7)]


def test_cuda_kernels_are_cpp_definitions() -> None:
    cuda = (
        "#include <cuda_runtime.h>\n\n"
        "// Adds two vectors element by element.\n"
        "__global__ void vector_add(const float* a, const float* b, float* out, int n) {\n"
        "  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = a[i] + b[i];\n}\n\n"
        "void launch(const float* a, const float* b, float* out, int n) {\n"
        "  vector_add<<<(n + 255) / 256, 256>>>(a, b, out, n);\n}\n\n"
        "class Runner {\n public:\n  __host__ __device__ int size() const { return n_; }\n private:\n  int n_;\n};\n"
    )
    for path in ("src/add.cu", "include/add.cuh", "src/add.hip"):
        assert language_for(path) == "cpp"
        chunks = chunk_text(cuda, path)
        assert [(c.kind, c.qualified_name, c.start_line) for c in chunks if c.kind != "module"] == [
            ("function", "vector_add", 3), ("function", "launch", 9), ("class", "Runner", 13),
            ("method", "Runner.size", 15)]
        assert next(c for c in chunks if c.symbol == "vector_add").text.startswith("// Adds two vectors")


def test_csharp_written_for_two_builds_is_read_as_its_first_branch() -> None:
    # Serilog's `ILogger`: directives between a method's signature and its body, a body in one
    # branch and `;` in the other. The interface had not parsed: no class, its methods bare
    # functions, one named `if`
    source = (
        "namespace Serilog;\n\n"
        "/// <summary>The core logging API.</summary>\n"
        "public interface ILogger\n{\n"
        "#if FEATURE_DEFAULT_INTERFACE\n"
        "    private static readonly object[] NoValues = Array.Empty<object>();\n"
        "#endif\n\n"
        "    /// <summary>Create a logger that enriches log events.</summary>\n"
        "    ILogger ForContext(ILogEventEnricher enricher)\n"
        "#if FEATURE_DEFAULT_INTERFACE\n"
        "        => new LoggerConfiguration().CreateLogger()\n"
        "#endif\n"
        "    ;\n\n"
        "    void Write(LogEvent logEvent)\n"
        "#if FEATURE_DEFAULT_INTERFACE\n"
        "    {\n"
        "        if (!IsEnabled(logEvent.Level)) return;\n"
        "        Dispatch(logEvent);\n"
        "    }\n"
        "#else\n"
        "        ;\n"
        "#endif\n"
        "}\n"
    )
    chunks = chunk_source(source, "src/Serilog/ILogger.cs", "csharp")
    named = [(c.kind, c.qualified_name) for c in chunks if c.symbol]
    assert named[0] == ("class", "ILogger")
    assert ("method", "ILogger.ForContext") in named and ("method", "ILogger.Write") in named
    assert not any(c.symbol in ("if", "FEATURE_DEFAULT_INTERFACE") for c in chunks)
    write = next(c for c in chunks if c.symbol == "Write")
    assert "#if FEATURE_DEFAULT_INTERFACE" in write.text and "Dispatch(logEvent);" in write.text  # as written


def test_a_kotlin_extension_function_is_a_method_of_its_receiver_s_type() -> None:
    # kotlinx-datetime's `fun Instant.plus(...)` had been a bare `plus`: the lookup `Instant.plus`
    # found only the deprecated class's members
    source = (
        "package kotlinx.datetime\n\n"
        "/** Adds [period] to this instant. */\n"
        "public fun Instant.plus(period: DateTimePeriod, timeZone: TimeZone): Instant = plusPeriod(period)\n\n"
        "fun <T> List<T>.second(): T = this[1]\n\n"
        "fun kotlin.time.Instant.isDistantPast(): Boolean = this <= DISTANT_PAST\n\n"
        "fun String?.orBlank(): String = this ?: \"\"\n\n"
        "fun plainFunction(a: Int): Int = a\n\n"
        "open class Table {\n    fun <T> Column<T>.withDefinition(vararg definition: Any): Column<T> = this\n}\n"
    )
    named = {(c.qualified_name, c.kind) for c in chunk_source(source, "Instant.kt", "kotlin") if c.symbol}
    assert {("Instant.plus", "method"), ("List.second", "method"), ("Instant.isDistantPast", "method"),
            ("String.orBlank", "method"), ("plainFunction", "function")} <= named
    # an extension written inside a class is called in that class's code: it stays the class's
    assert ("Table.withDefinition", "method") in named


def test_kotlin_that_trips_the_grammar_in_okio_s_byte_string_still_makes_its_class() -> None:
    source = (
        "actual open class ByteString\n"
        "internal actual constructor(\n"  # a platform modifier on the constructor, at the margin
        "  internal actual val data: ByteArray,\n"
        ") : Serializable {\n"
        "  actual val size\n"
        "    @JvmName(\"size\")\n"  # an annotated getter of a property without its type
        "    get() = getSize()\n"
        "\n"
        "  fun copyOf(buffer: ByteBuffer): ByteString {\n"
        "    val copy = ByteArray(buffer.remaining())\n"
        "    get(copy)\n"  # a call of `get`, not the local's getter
        "    return ByteString(copy)\n"
        "  }\n"
        "\n"
        "  @Target(AnnotationTarget.FUNCTION)\n"
        "  fun hex(): String = commonHex()\n"
        "}\n"
    )
    found = {(c.kind, c.qualified_name) for c in chunk_source(source, "ByteString.kt", "kotlin")}
    # each had left the class unparsed: its methods top-level functions, or in module chunks
    assert {("class", "ByteString"), ("method", "ByteString.copyOf"), ("method", "ByteString.hex")} <= found
    copy = next(c for c in chunk_source(source, "ByteString.kt", "kotlin") if c.symbol == "copyOf")
    assert "    get(copy)\n" in copy.text  # the code as written


def test_a_function_too_long_for_one_chunk_is_cut_at_the_functions_it_defines() -> None:
    state = "".join(f"  let _field{n} = {n}\n" for n in range(150))
    source = (
        "export function createFormControl(props = {}) {\n"
        f"{state}"
        "  const register = (name, options = {}) => {\n"
        "    _fields[name] = options\n"
        "  }\n"
        "\n"
        "  const reset = (values) => {\n"
        "    _formValues = values\n"
        "  }\n"
        "  return { register, reset }\n"
        "}\n"
        "\n"
        "function small() {\n  const inner = () => 1\n  return inner()\n}\n"
    )
    chunks = chunk_source(source, "createFormControl.ts", "typescript")
    found = {(c.kind, c.qualified_name, c.start_line, c.end_line) for c in chunks}
    # were 150-line pieces of one function: its closures, the form's API, had no chunks of their own
    assert ("function", "createFormControl.register", 152, 154) in found
    assert ("function", "createFormControl.reset", 156, 158) in found
    outline = [c for c in chunks if c.qualified_name == "createFormControl"]
    assert all(len(c.text.splitlines()) <= 150 for c in outline)
    assert "_fields[name]" not in "".join(c.text for c in outline)
    assert "  return { register, reset }" in outline[-1].text  # its own code stays, in pieces
    # a function that fits in one chunk keeps its closures
    assert ("function", "small", 162, 165) in found and not any(q == "small.inner" for _, q, _, _ in found)


def test_a_function_exported_without_a_name_is_named_for_its_file() -> None:
    source = "export default async (field, value) => {\n  return validate(field, value)\n}\n"
    found = [(c.kind, c.qualified_name) for c in chunk_source(source, "src/logic/validateField.ts", "typescript")]
    assert found == [("function", "validateField")]  # was a module chunk: no definition at all
    wrapped = "export default memo(function () {\n  return 1\n})\nexport const other = () => 2\n"
    named = {c.qualified_name for c in chunk_source(wrapped, "src/button/index.jsx", "javascript")}
    assert named == {"button", "other"}  # an `index` file's is its folder's name
    # an object, a class or a named function exported by default is no unnamed function
    assert [c.qualified_name for c in chunk_source("export default { fetch: () => 1 }\n", "app.js", "javascript")] \
        == ["fetch"]
    assert [c.qualified_name for c in chunk_source("export default function run() {}\n", "a.ts", "typescript")] \
        == ["run"]


def test_typescript_that_trips_the_grammar_still_makes_its_definitions() -> None:
    source = (
        "export type * from './types'\n"  # TypeScript 5.0's type-only re-export
        "\n"
        "export interface $ZodCheck<in T = never> {\n"  # variance on a type parameter
        "  _zod: $ZodCheckInternals<T>\n"
        "}\n"
        "\n"
        "export interface ZodType<\n"
        "  /** @ts-ignore Cast variance */\n"
        "  out Output = unknown,\n"
        "  out Input = unknown,\n"
        "> {\n"
        "  parse(data: unknown): Output\n"
        "}\n"
        "\n"
        "interface Get<E extends Env> {\n"
        "  <Key extends keyof E['Variables']>(key: Key): E['Variables'][Key]\n"
        "  /** a variable set by a middleware */\n"
        "  <Key extends keyof ContextVariableMap>(key: Key): ContextVariableMap[Key]\n"  # after one without `;`
        "}\n"
        "\n"
        "const debounce =\n"
        "  <T extends Function>(callback: T) => (wait: number) => {\n"  # a generic arrow: no `;` before it
        "    clearTimeout(timer)\n"
        "  }\n"
        "\n"
        "export function createSelectorCreator(memoize: Memoize) {\n"
        "  return memoize\n"
        "}\n"
    )
    chunks = chunk_source(source, "src/schemas.ts", "typescript")
    found = {(c.kind, c.qualified_name) for c in chunks}
    # the first of them had left the rest of the file unparsed: module chunks to its end
    assert {("class", "$ZodCheck"), ("class", "ZodType"), ("class", "Get"), ("function", "debounce"),
            ("function", "createSelectorCreator")} <= found
    get = next(c for c in chunks if c.symbol == "Get")
    assert "  <Key extends keyof ContextVariableMap>(key: Key)" in get.text  # the code as written
    assert next(c for c in chunks if c.symbol == "$ZodCheck").text.startswith("export interface $ZodCheck<in T")
    # in TSX a line that starts with `<` is an element, as written
    element = "export function App() {\n  return (\n    <div>\n      <Child />\n    </div>\n  )\n}\n"
    assert [(c.kind, c.symbol) for c in chunk_source(element, "App.tsx", "tsx")] == [("function", "App")]


def test_the_license_at_a_file_s_head_is_in_no_chunk_and_what_the_file_does_stays() -> None:
    # libuv's MIT notice heads every file: its words (`event`, `connection`, `software`) had made
    # each file's module chunk an answer to questions about the event loop
    mit = (
        "/* Copyright Joyent, Inc. and other Node contributors. All rights reserved.\n"
        " *\n"
        " * Permission is hereby granted, free of charge, to any person obtaining a copy\n"
        " * of this software and associated documentation files (the \"Software\").\n"
        " *\n"
        " * THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND. IN NO EVENT SHALL\n"
        " * THE AUTHORS BE LIABLE, WHETHER IN AN ACTION OF CONTRACT, OR IN CONNECTION WITH IT.\n"
        " */\n"
        "\n"
        "#include \"uv.h\"\n"
        "\n"
        "int uv_tcp_init(uv_loop_t* loop, uv_tcp_t* tcp) {\n"
        "  return 0;\n"
        "}\n"
    )
    chunks = chunk_source(mit, "src/unix/tcp.c", "c")
    text = "\n".join(c.text for c in chunks)
    assert "EVENT" not in text and "Permission" not in text and "*/" not in text
    assert [(c.kind, c.start_line, c.text) for c in chunks if c.kind == "module"] == [
        ("module", 10, "#include \"uv.h\"")]
    # a paragraph that says what the file does stays; so does a comment below the first code
    fmt = ("/*\n  Formatting library for C++\n\n  Copyright (c) 2012 - present, Victor Zverovich\n*/\n"
           "#include \"base.h\"\n// see the license of fmt for copyright details\n")
    assert [c.text for c in chunk_source(fmt, "format.h", "cpp")] == [
        "  Formatting library for C++\n#include \"base.h\"\n// see the license of fmt for copyright details"]
    # Apache's header in `#` lines, right above the first definition, is not its doc comment
    apache = ("# Copyright 2016 Julien Danjou\n#\n# Licensed under the Apache License, Version 2.0\n"
              "# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
              "def retry_if_exception_type(*types):\n    return types\n")
    assert [(c.start_line, c.text.splitlines()[0]) for c in chunk_source(apache, "retry.py", "python")] == [
        (5, "def retry_if_exception_type(*types):")]
    # a generator's mark stays where a license shares its paragraph: it tells the file's kind
    made = ("// Code generated by mockery. DO NOT EDIT.\n// Copyright 2024 The Authors. All rights reserved.\n"
            "\npackage mocks\n")
    assert chunk_source(made, "mock_store.go", "go")[0].text.startswith("// Code generated by mockery.")
    # and so does a paragraph saying the file was copied in from another project (hiredis's `ffc.h`)
    vendored = ("// SPDX-License-Identifier: MIT\n//\n// ffc - single-header float parser (a C port of fast_float).\n"
                "// Vendored into hiredis under the MIT License.\n\nint ffc_parse(const char *s);\n")
    assert "Vendored into hiredis" in chunk_source(vendored, "ffc.h", "c")[0].text
    # a head comment without a license is the file's own, whole
    described = ("// Package pflag parses command-line flags.\n// It is a drop-in for Go's flag package.\n"
                 "package pflag\n")
    assert chunk_source(described, "flag.go", "go")[0].text == described.rstrip("\n")

def test_objective_c_written_for_several_platforms_keeps_its_methods() -> None:
    # AFNetworking's availability macros after a declaration (`AF_API_UNAVAILABLE(macos);`, and
    # before a method's body), and SDWebImage's directives inside an `@implementation`, one method
    # with a header for each platform: the parser had lost every method after them
    afnetworking = (
        "@interface AFURLSessionManagerTaskDelegate : NSObject\n"
        "@property (nonatomic, strong) NSProgress *uploadProgress;\n"
        "@end\n\n"
        "@implementation AFURLSessionManagerTaskDelegate\n\n"
        "- (instancetype)initWithTask:(NSURLSessionTask *)task {\n"
        "    __weak __typeof__(task) weakTask = task;\n"
        "    for (NSProgress *progress in @[ _uploadProgress, _downloadProgress ])\n"
        "    {\n"
        "        progress.cancellationHandler = ^{\n"
        "            [weakTask cancel];\n"
        "        };\n"
        "#if AF_CAN_USE_AT_AVAILABLE\n"
        "        if (@available(macOS 10.11, *))\n"
        "#else\n"
        "        if ([progress respondsToSelector:@selector(setResumingHandler:)])\n"
        "#endif\n"
        "        {\n"
        "            progress.resumingHandler = ^{\n"
        "                [weakTask resume];\n"
        "            };\n"
        "        }\n"
        "    }\n"
        "    return self;\n"
        "}\n\n"
        "- (void)URLSession:(NSURLSession *)session task:(NSURLSessionTask *)task\n"
        "didFinishCollectingMetrics:(NSURLSessionTaskMetrics *)metrics AF_API_AVAILABLE(ios(10), macosx(10.12)) {\n"
        "    self.sessionTaskMetrics = metrics;\n"
        "}\n\n"
        "@end\n\n"
        "@interface AFURLSessionManager ()\n"
        "@property (readwrite, nonatomic, strong) NSURLSession *session;\n"
        "@property (readwrite, nonatomic, copy) AFDidFinishEventsBlock didFinishEvents AF_API_UNAVAILABLE(macos);\n"
        "@end\n\n"
        "@implementation AFURLSessionManager\n\n"
        "- (instancetype)init {\n"
        "    return [self initWithSessionConfiguration:nil];\n"
        "}\n\n"
        "@end\n"
    )
    sdwebimage = (
        "#import \"SDAnimatedImageView.h\"\n\n"
        "#if SD_UIKIT || SD_MAC\n\n"
        "@implementation SDAnimatedImageView\n"
        "#if SD_UIKIT\n"
        "@dynamic animationRepeatCount;\n"
        "#endif\n\n"
        "#if SD_MAC\n"
        "+ (instancetype)imageViewWithImage:(NSImage *)image\n"
        "{\n"
        "    return [[SDAnimatedImageView alloc] initWithFrame:NSZeroRect];\n"
        "}\n"
        "#else\n"
        "- (instancetype)initWithImage:(UIImage *)image\n"
        "{\n"
        "    self = [super initWithImage:image];\n"
        "    return self;\n"
        "}\n"
        "#endif\n\n"
        "#if SD_MAC\n"
        "- (void)viewDidMoveToWindow\n"
        "#else\n"
        "- (void)didMoveToWindow\n"
        "#endif\n"
        "{\n"
        "#if SD_MAC\n"
        "    [super viewDidMoveToWindow];\n"
        "#else\n"
        "    [super didMoveToWindow];\n"
        "#endif\n"
        "    [self checkPlay];\n"
        "}\n\n"
        "- (void)commonInit\n"
        "{\n"
        "    self.autoPlayAnimatedImage = YES;\n"
        "}\n\n"
        "@end\n\n"
        "#endif\n"
    )
    chunks = chunk_source(afnetworking, "AFNetworking/AFURLSessionManager.m", "objc") + chunk_source(
        sdwebimage, "SDWebImage/Core/SDAnimatedImageView.m", "objc")
    named = {(c.kind, c.qualified_name) for c in chunks}
    assert {("method", "AFURLSessionManagerTaskDelegate.initWithTask"),
            ("method", "AFURLSessionManagerTaskDelegate.URLSession"),
            ("class", "AFURLSessionManager"), ("method", "AFURLSessionManager.init")} <= named
    # every platform's code is kept: the macOS constructor and the iOS one
    assert {("method", "SDAnimatedImageView.imageViewWithImage"), ("method", "SDAnimatedImageView.initWithImage"),
            ("method", "SDAnimatedImageView.commonInit")} <= named
    init = next(c for c in chunks if c.symbol == "initWithTask")
    assert "#if AF_CAN_USE_AT_AVAILABLE" in init.text  # as written
    # a C or C++ header stays what it was
    assert language_for("uv.h", "#include <stdio.h>\nint uv_run(uv_loop_t *loop);\n") == "c"
    assert language_for("SDWebImageError.h", '#import "SDWebImageCompat.h"\nFOUNDATION_EXPORT double V;\n') == "objc"


def test_sql_definitions_are_named_for_their_object_with_the_comment_above() -> None:
    source = ("/* Keeps updated_at current on every update. */\n"
              "CREATE OR REPLACE FUNCTION app.touch_updated_at() RETURNS trigger AS $$\n"
              "BEGIN\n  NEW.updated_at = now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n\n"
              'CREATE TABLE app."users" (id SERIAL PRIMARY KEY);\n')
    chunks = {c.qualified_name: c for c in chunk_source(source, "db/001_init.sql", "sql") if c.symbol}
    assert set(chunks) == {"touch_updated_at", "users"}  # the schema qualifies nothing
    assert chunks["touch_updated_at"].start_line == 1 and chunks["touch_updated_at"].kind == "function"
    assert language_for("db/001_init.sql") == "sql"


def test_a_dart_signature_and_the_body_beside_it_are_one_definition() -> None:
    # Dart's grammar gives a method as a `method_signature` and a `function_body` side by side:
    # the chunk holds both, with its doc comment and annotation, and a constructor its initialisers
    source = ("class Cascade {\n"
              "  /// Creates a cascade.\n"
              "  Cascade({Iterable<int>? statusCodes})\n"
              "      : _statusCodes = statusCodes,\n"
              "        _parent = null;\n\n"
              "  /// Adds [handler] to the end.\n"
              "  @useResult\n"
              "  Cascade add(Handler handler) {\n"
              "    Response first(Request request) => _handler(request);\n"
              "    return Cascade._(this, handler);\n"
              "  }\n\n"
              "  bool get isEmpty => _parent == null;\n"
              "}\n")
    chunks = {c.qualified_name: c for c in chunk_source(source, "lib/src/cascade.dart", "dart") if c.symbol}
    assert set(chunks) == {"Cascade", "Cascade.Cascade", "Cascade.add", "Cascade.isEmpty"}
    assert (chunks["Cascade.Cascade"].start_line, chunks["Cascade.Cascade"].end_line) == (2, 5)
    add = chunks["Cascade.add"]
    assert (add.start_line, add.end_line, add.kind) == (7, 12, "method")
    assert add.text.startswith("  /// Adds [handler]") and add.text.endswith("  }")
    # the local function stays inside its method's chunk, not a definition of the class's
    assert "Response first" in add.text


def test_a_long_dart_function_is_cut_where_its_statements_start() -> None:
    body = "".join(f"  final value{n} = compute({n});\n" for n in range(MAX_CHUNK_LINES + 20))
    source = f"void main() {{\n{body}}}\n"
    pieces = [c for c in chunk_source(source, "bin/main.dart", "dart") if c.symbol == "main"]
    assert len(pieces) == 2
    assert pieces[0].start_line == 1 and pieces[-1].end_line == MAX_CHUNK_LINES + 22
    assert all(c.text.splitlines()[0].lstrip().startswith(("void main", "final value")) for c in pieces)


def test_operators_are_named_as_operators_not_for_the_type_they_return() -> None:
    csharp = ("class Money {\n"
              "    public static Money operator +(Money a, Money b) { return a; }\n"
              "    public static bool operator ==(Money a, Money b) { return true; }\n"
              "    public static implicit operator decimal(Money m) { return 0; }\n"
              "}\n")
    names = {c.qualified_name for c in chunk_source(csharp, "Money.cs", "csharp") if c.kind == "method"}
    assert names == {"Money.operator+", "Money.operator==", "Money.operator decimal"}
    dart = "class A {\n  bool operator ==(Object other) => true;\n  A operator [](int i) => this;\n}\n"
    names = {c.qualified_name for c in chunk_source(dart, "a.dart", "dart") if c.kind == "method"}
    assert names == {"A.operator==", "A.operator[]"}


def test_terraform_bazel_and_make_files_are_code_named_as_their_tools_name_them() -> None:
    source = ('resource "aws_security_group" "web" {\n'
              '  name = "web"\n'
              '  ingress {\n    from_port = 443\n  }\n'
              '  dynamic "egress" {\n    for_each = var.egress\n    content {\n      to_port = 0\n    }\n  }\n'
              '}\n\n'
              'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n\n'
              'terraform {\n  required_version = ">= 1.5"\n}\n')
    chunks = chunk_source(source, "infra/main.tf", "hcl")
    named = {c.qualified_name: c for c in chunks if c.symbol}
    # addressed as Terraform addresses them (`aws_security_group.web`); a labelled block inside is
    # its member, an unlabelled one (`ingress`, `lifecycle`) its code, and `terraform {}` the file's
    assert set(named) == {"aws_security_group.web", "aws_security_group.web.egress", "vpc"}
    assert named["aws_security_group.web"].symbol == "web"
    assert "from_port = 443" in named["aws_security_group.web"].text
    assert any(c.kind == "module" and "required_version" in c.text for c in chunks)
    # a Makefile's rule with a recipe is named for its target, a file's name kept whole
    make = {c.symbol: c for c in chunk_source("# Link it.\nlibfoo.so: foo.o\n\tcc -shared -o $@ $^\n\n"
                                              ".PHONY: all\nall: libfoo.so\n", "Makefile", "make")}
    assert set(make) == {"libfoo.so", ""} and make["libfoo.so"].start_line == 1
    assert [language_for(p) for p in ("infra/prod.tfvars", "packer/build.pkr.hcl", "BUILD", "pkg/BUILD.bazel",
                                      "MODULE.bazel", "tools/defs.bzl")] == ["hcl"] * 2 + ["starlark"] * 4
