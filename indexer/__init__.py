"""Walking repositories, chunking files with tree-sitter, and syncing the index."""

# The chunking policy's version, recorded in every index: a change to what `chunker` makes of a
# file bumps it, and the next sync of an index of another version chunks every file again. It
# lives here, not in `chunker`, so that opening an index to answer a query does not import
# tree-sitter and its grammars.
# 2: C and C++ macros alone on their line hidden from the parser; 3: `const X = f(() => ...)` is a
# definition; 4: a file with a syntax error is parsed again a top-level declaration at a time;
# 5: a doc comment inside the body before goes with its definition, operators are names;
# 6: Rust's doc comments above `#[...]` attributes go with the item; 7: Haskell's haddock and
# the comment above `export const f = () => ...` go with their definitions; 8: version 4's
# sections cut files with Windows line ends too; 9: Ruby's `class << self` and Kotlin's unnamed
# `companion object` qualify their members by the enclosing class, operators and constructors are
# named (`==`, `[]`, `operator bool`, Kotlin's `constructor`); 10: a TypeScript function's
# overload signatures and its implementation are one chunk; 11: JavaScript's and TypeScript's
# `const api = { get() {...} }` names its methods `api.get`; 12: C and C++ function-like macros
# (`#define container_of(ptr, type, member) ...`) are functions; 13: a JavaScript or TypeScript
# class field holding a function (`handleClick = () => {...}`) is a method; 14: a Java enum
# constant with a body is a class (`HtmlTreeBuilderState.InBody.process`); 15: TypeScript's
# `type Options = { ... }` is a class, as the interface it equals would be; 16: Kotlin statements
# that start with a variable named `where`, and Kotlin 2's guards (`is A if cond ->`), no longer
# leave their class unparsed; 17: nor does a nested Kotlin class's `private constructor(` on the
# line after its name; 18: names quoted in backticks (Kotlin's, Scala's, Swift's) are named
# without them; 19: a name is never taken from what the parser could not place (a C function
# was named for the calling-convention macro before its name: `void * CJSON_CDECL f(...)`);
# 20: a Swift computed property (`var count: Int { ... }`) is a method; 21: the comments above a
# JavaScript or TypeScript assignment (`res.send = function send() {...}`) go with it, and a
# `/** ... */` doc block a blank line above its definition is still its doc; 22: nor is a C
# function named `void` (`int CJSON_CDECL main(void)` parses as a `main` declaring `(void)`);
# 23: a Haskell operator defined infix (`p --> f = ...`) is named `-->`, as its signature is;
# 24: a name that is a string (Zig's `test "url: parse"`) or an operator (Scala's `def :+`) is
# not cut at its `:` and `.`; 25: Scala's `package object cats { ... }` is an object, its members
# `cats.pure`; 26: a Haskell record field of a function type (`keys :: !(XConfig -> ...)`) is not
# a method; 27: a C# property whose accessors have bodies (`get { ... }`) is a method; 28: a Ruby
# class made by a call with a block (`Point = Struct.new(:x) do ... end`) holds its methods; 29: a
# Ruby class or module named with its scope (`class HTTParty::CookieHash`) is `HTTParty.CookieHash`,
# not `HTTParty`; 30: JavaScript's destructuring (`const { a, b } = create(() => ...)`) defines no
# function named `{ a, b }`, nor qualifies the functions inside it; 31: Bats test files (`.bats`,
# `#!/usr/bin/env bats`) are Bash, each `@test "name" { ... }` a function `test_name`; 32: a C++
# function whose return type the parser took into its name, behind a macro
# (`SPDLOG_INLINE std::shared_ptr<logger> get(...)`), is named `get`; 33: C and C++ macros between
# a function's parameters and its body (`) SPDLOG_NOEXCEPT {`) are blanked for the parser; 34: so
# are export macros in a class head (`class SPDLOG_API logger`), which made the class a function,
# and version 32's name keeps its qualifier (`thread_pool::process_next_msg_`); 35: a `.h` file that
# holds `enum class`, a scope (`std::string`), `constexpr` or `nullptr` is C++; 36: a file with a
# syntax error is chunked a declaration at a time only where that finds more definitions (a whole
# file's parse keeps its C++ namespaces), an anonymous namespace qualifies nothing, and a namespace
# named in parts (`namespace a::b`, C#'s `namespace Dapper.EntityFramework`) is named in full;
# 37: version 28's Ruby class may be made by any class's `new`, its arguments over several lines
# (faraday's `Env = Options.new(:method,\n :url) do`); 38: a Rust `impl` for a reference is named
# for the type (`impl Serializer for &'a mut Serializer<W>` had been named `a`); 39: a C function
# named through a macro (`int STB_SPRINTF_DECORATE(vsprintfcb)(...)`) is named `vsprintfcb`; 40: a
# Rust `impl` for a type written with its path (`impl Ext for http::response::Builder`) is named
# for the type, `Builder`, not for the path's last module (`response`); 41: a long definition is cut
# at statements nested up to 8 levels deep, not 4 (swr's `export const infinite = (<D>(useSWRNext)
# => (getKey, fn, config) => { ... }) as Middleware` had been cut into a 1-line head and pieces of
# exactly 150 lines, mid-statement); 42: C and C++ macros before a declaration's type or name
# (`CLI11_NODISCARD std::string help() const;`, a constructor's `FMT_CONSTEXPR`) and in an `if`
# (`if FMT_CONSTEXPR20 (...)`) are read past (CLI11's `class App` had been a function); 43: a class's
# outline shows each member's signature line, not the first of its annotations (Java's `@Override`,
# Kotlin's `@JvmStatic`, C#'s `[Fact]`, Swift's `@discardableResult` had stood for the member); 44:
# a Zig function that returns a struct (`fn Router(comptime H: type) type { return struct {...}; }`,
# Zig's generic type) is a class, its functions methods (http.zig's router had been two 150-line
# pieces of one function); 45: a Go method of a generic type (`func (f *FlagBase[T, C, V]) Names()`)
# is the type's (`FlagBase.Names`), not its last type parameter's (`V.Names`); 46: a C++ member
# defined outside its class template is named without the type arguments
# (`basic_memory_buffer<T, SIZE, Allocator>::grow` is `basic_memory_buffer.grow`, which a lookup of
# `basic_memory_buffer::grow` finds), and a Rust blanket `impl<F> Handler for F` for its trait
# (`Handler.call`, not `F.call`); 47: a Haskell `-- |` doc comment a blank line above its
# definition is its doc (parsec's every combinator's doc had been left in a module chunk); 48: a
# C# delegate (`public delegate Task<T> RequestHandlerDelegate<T>();`) is a type with its doc; 49:
# three more Kotlin constructs tree-sitter-kotlin cannot read are shown to it otherwise (a platform
# modifier on a primary constructor at the margin, an annotated getter of a property without its
# type, a call of `get` after a local `val`): okio's `ByteString` classes are classes again; 50: a
# function longer than a chunk is cut at the functions it defines, as a class is at its methods
# (react-hook-form's 2,000-line `createFormControl` had been 150-line pieces; now
# `createFormControl.register`, `.reset`, ..., and its own code between them in pieces); 51: a
# JavaScript or TypeScript function exported without a name (`export default async (field) =>
# {...}`) is a function named for its file (`validateField`), an `index` file's for its folder;
# 52: three TypeScript constructs tree-sitter-typescript 0.23 cannot read are shown to it in a
# form it reads (a type parameter's variance, `<out T>`; `export type * from`; a generic call
# signature on its own line after a member without `;`): zod's v4 core schemas, reselect's
# `createSelectorCreator` and hono's `Context` had been unparsed from there to their end; 53: a
# documented top-level JavaScript declaration made by a call is a function (Redux Toolkit's
# `export const createSlice = buildCreateSlice()`); 54: a Swift extension of a nested type is named
# for it (`extension HTTPClient.Configuration`); 55: a C type without a name in a long function
# is no definition (nginx's `enum { sw_start, ... } state;`); 56: a Lua module's functions are
# named for the module, not its local `M` table; 57: Haskell's `.hsc` files are Haskell; 58:
# `.inl`, `.tpp`, `.tcc`, `.cppm`, `.ixx` are C++, `config.ru` Ruby, an `.inc` C or C++ by its content;
# 59: the license in a file's head comment is in no chunk; 60: unless its paragraph also says the
# file is vendored ("Vendored into hiredis under the MIT License"), which tells the file's kind;
# 61: a Kotlin extension function is a method of its receiver's type (`fun Instant.plus` is
# `Instant.plus`; one inside a class stays the class's); 62: C# `#if` blocks are read as their first
# branch (Serilog's `ILogger` had no interface, 246 syntax errors); 63: Vue and Svelte components'
# scripts are chunked as TypeScript, their markup kept in the module's chunks; 64: a Yacc or Lex
# file's C (`%{ ... %}` and what follows the rules) is chunked as C, its grammar kept in the module's;
# 65: CUDA's and HIP's files (`.cu`, `.cuh`, `.hip`) are C++; 66: files tools read by name
# (`Podfile`, `Vagrantfile`, `PKGBUILD`, `.envrc`) are Ruby or Bash, sbt's `.sbt` Scala; 67:
# Objective-C (`.m`, `.mm`, its headers) is code; 68: SQL's `CREATE`s are definitions; 69: Dart is
# code (a signature and the body beside it are one definition), and C#'s and Dart's operators are
# named `operator+`, not for the type they return; 70: Terraform's and other HCL's labelled blocks are
# definitions (`aws_s3_bucket.logs`), Bazel's Starlark (`.bzl`, `BUILD`) is chunked as Python is; 71:
# a Makefile's rules with a recipe are definitions named for their targets
CHUNKER_VERSION = 71
