"""Cut a module down to what the facade collector can see, before LibCST parses it.

LibCST's parse, scope analysis and visitor cost several hundred µs per source line; CPython's
``ast`` parses one in about 20 µs. So each file is parsed with ``ast`` first and *sliced*: what the
collector's answer can depend on is kept, everything else is removed, and LibCST runs over the
slice only. What the answer depends on, and so what is kept:

* the statements holding a facade-method attribute (``x.get_player``), whatever their context;
* every statement, anywhere in the module, that binds a name the answer consults — the receiver's
  name, the names in the value assigned to it, in a parameter's annotation or default, a base class —
  closed as a fixpoint over names (LibCST's scope lookups see every binding of a consulted name,
  in the same order, so they answer the same); ``self.x = ...`` stores count as binding ``x``;
* ``__future__`` and star imports, and the encoding cookie (other imports are bindings like any);
* the headers of the compound statements enclosing anything kept (parameters, bases, ``else:``,
  ``except:`` and ``case`` lines), with ``pass`` where a block would become empty;
* any statement sharing a physical line (``a = 1; p.get_player()``), or a backslash-joined line,
  with something kept; so a one-line compound statement is kept whole.

Within what is kept, three things nobody reads go too: decorators that hold no facade attribute
and are not a bare name (``@staticmethod`` matters), a ``def`` header's parameters other than the
first and the consulted ones (and its return annotation), and the arguments of calls in a kept
statement when no facade attribute, walrus, receiver or annotation is among them.

Dropped lines are removed rather than blanked: LibCST pays about 20 µs for every blank line it
carries. Positions therefore come from the original file's ``ast`` nodes: one ``Anchor`` per
facade-method attribute, in source order, which is the order LibCST's visitor meets them in. The
collector checks each anchor against the node it meets (attribute name, enclosing function) and the
count at the end; any disagreement, like anything unexpected here, sends the file down the full,
unsliced path.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from asyncmigrate.analysis.facade import FacadeSpec
from asyncmigrate.config.modules import nested_qualname

_BOM = b"\xef\xbb\xbf"
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_TRY = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


@dataclass(frozen=True)
class Anchor:
    """Where one facade-method attribute sits in the original file, as LibCST would report it."""

    line: int
    column: int  # in characters, as LibCST counts them
    attr: str
    function: str  # the collector's name for the enclosing function, "<module>" outside any


@dataclass(frozen=True)
class ModuleSlice:
    source: bytes  # the kept lines, in order; empty when the module holds no facade-method attribute
    anchors: tuple[Anchor, ...]
    lines_kept: int
    lines_total: int


class _Item:
    """One statement; for a compound statement, its own part (header and clause lines)."""

    __slots__ = ("node", "parent", "start", "end", "shared", "own", "children", "function", "kept")

    def __init__(self, node: ast.stmt, parent: _Item | None, start: int, function: str) -> None:
        self.node = node
        self.parent = parent
        self.start = start  # first line, decorators included
        self.end: int = node.end_lineno or node.lineno
        self.shared = False  # starts on a line that holds its parent's header
        self.own: list[int] = []  # lines of its own part, boundary comments and blank lines trimmed
        self.children: list[list[_Item]] = []  # blocks, in source order
        self.function = function
        self.kept = False


@functools.lru_cache(maxsize=8)
def attribute_pattern(methods: frozenset[str]) -> re.Pattern[bytes] | None:
    """Bytes that every facade-method attribute's name token matches: the dot, then whitespace,
    line continuations or comments, then the name. None when the facade's methods are unknown."""
    if not methods or not all(name.isascii() for name in methods):
        return None
    names = b"|".join(re.escape(name.encode()) for name in sorted(methods, key=len, reverse=True))
    return re.compile(rb"\.(?:[ \t\f\\\r\n]|#[^\r\n]*)*(?:" + names + rb")(?![A-Za-z0-9_\x80-\xff])")


def slice_module(data: bytes, tree: ast.Module, spec: FacadeSpec, encoding: str = "utf-8") -> ModuleSlice | None:
    """The slice of ``data`` (already parsed as ``tree``), or None when it cannot be sliced safely.

    ``encoding`` is the file's declared encoding (CPython's columns count UTF-8 bytes of the
    decoded text, whatever the encoding)."""
    return _Slicer(data, tree, spec, attribute_pattern(spec.methods), encoding).run()


class _Slicer:
    def __init__(
        self, data: bytes, tree: ast.Module, spec: FacadeSpec, pattern: re.Pattern[bytes] | None, encoding: str
    ) -> None:
        self.bom = data.startswith(_BOM)
        self.data = data[len(_BOM) :] if self.bom else data
        self.tree = tree
        self.spec = spec
        self.pattern = pattern
        self.encoding = encoding
        self.lines = self.data.splitlines(keepends=True)
        self.has_walrus = b":=" in self.data
        self.items: list[_Item] = []
        self.names: set[str] = set()  # names (and attribute names) whose bindings the answer reads
        self.pending: list[str] = []
        self.lines_kept = 0
        self.binders: dict[str, list[_Item]] = {}  # name -> statements binding it
        self.groups: list[int] = []  # per line: its backslash-joined group
        self.by_group: dict[int, list[_Item]] = {}

    # --- the statement tree ------------------------------------------------------------------
    def run(self) -> ModuleSlice | None:
        if not self.lines:
            return ModuleSlice(b"", (), 0, 0)
        self._build(self.tree.body, None, ())
        candidates = self._candidates()
        if candidates is None:
            return None
        if not candidates:
            return ModuleSlice(b"", (), 0, len(self.lines))
        anchors = self._anchors(candidates)
        if anchors is None:
            return None
        self._mark(candidates)
        source = self._emit(candidates)
        if source is None:
            return None
        return ModuleSlice(source, anchors, self.lines_kept, len(self.lines))

    def _build(self, body: list[ast.stmt], parent: _Item | None, frames: tuple[tuple[bool, str], ...]) -> list[_Item]:
        block: list[_Item] = []
        for node in body:
            decorators = getattr(node, "decorator_list", None) or []
            start = min([node.lineno, *(d.lineno for d in decorators)])
            enclosing = next((name for is_function, name in reversed(frames) if is_function), "<module>")
            item = _Item(node, parent, start, enclosing)
            item.shared = self._starts_mid_line(node, decorators)
            self.items.append(item)
            block.append(item)
            blocks = _blocks(node)
            if not blocks:
                item.own = list(range(item.start, item.end + 1))
                continue
            inner = frames
            if isinstance(node, (*_DEFS, ast.ClassDef)):
                qualname = _qualname(frames, node.name)
                inner = (*frames, (isinstance(node, _DEFS), qualname))
                if isinstance(node, _DEFS):
                    item.function = qualname  # the collector enters the function before its decorators
            item.children = [self._build(statements, item, inner) for statements in blocks]
            item.own = self._own_lines(item)
        return block

    def _starts_mid_line(self, node: ast.stmt, decorators: list[ast.expr]) -> bool:
        """True when something precedes the statement on its first line (``if x: y``, ``a; b``)."""
        line = decorators[0].lineno if decorators else node.lineno
        column = decorators[0].col_offset if decorators else node.col_offset
        before = self.lines[line - 1][:column].strip(b" \t\f")
        return before not in (b"", b"@") if decorators else before != b""

    def _own_lines(self, item: _Item) -> list[int]:
        runs: list[tuple[int, int]] = []
        position = item.start
        for child in (c for block in item.children for c in block):
            child_start = child.start + 1 if child.shared else child.start
            if child_start > position:
                runs.append((position, child_start - 1))
            position = max(position, child.end + 1)
        if position <= item.end:
            runs.append((position, item.end))
        own: list[int] = []
        for first, last in runs:
            # Comments and blank lines at a run's edges sit between statements: dropping them is
            # free, while every line LibCST carries costs time.
            while first <= last and self._is_blank(first):
                first += 1
            while last >= first and self._is_blank(last):
                last -= 1
            own.extend(range(first, last + 1))
        return own

    def _is_blank(self, line: int) -> bool:
        text = self.lines[line - 1].strip()
        return not text or text.startswith(b"#")

    # --- what the collector will look at ---------------------------------------------------------
    def _candidates(self) -> list[tuple[_Item, ast.Attribute]] | None:
        """Every facade-method attribute with the statement that holds it; None if unsafe."""
        if b"getattr" in self.data and self._has_facade_getattr():
            return None  # ``getattr(x, "method")`` is a facade access with no attribute: read the whole file
        if self.pattern is not None:
            hit_lines = self._pattern_lines(self.pattern)
            if not hit_lines:
                return []
            by_line: dict[int, list[_Item]] = {}
            for item in self.items:
                for line in item.own:
                    if line in hit_lines:
                        by_line.setdefault(line, []).append(item)
            scanned = list({id(i): i for line in sorted(by_line) for i in by_line[line]}.values())
        else:
            scanned = self.items
        found: list[tuple[_Item, ast.Attribute]] = []
        for item in scanned:
            node = item.node
            if isinstance(node, ast.Import | ast.ImportFrom) and self._imports_facade_name(node):
                return None  # LibCST sees ``import a.get_player`` as an Attribute; ast does not
            for child in _own_nodes(node):
                if isinstance(child, ast.Attribute) and self.spec.is_facade_method(child.attr):
                    found.append((item, child))
        return found

    def _has_facade_getattr(self) -> bool:
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and self.spec.is_facade_method(node.args[1].value)
            ):
                return True
        return False

    def _pattern_lines(self, pattern: re.Pattern[bytes]) -> set[int]:
        matches = [m.end() for m in pattern.finditer(self.data)]
        if not matches:
            return set()
        lines: set[int] = set()
        offset, line = 0, 0
        for end in matches:  # matches come in order: walk the lines once
            while offset + len(self.lines[line]) < end:
                offset += len(self.lines[line])
                line += 1
            lines.add(line + 1)
        return lines

    def _imports_facade_name(self, node: ast.Import | ast.ImportFrom) -> bool:
        dotted = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        return any(self.spec.is_facade_method(part) for name in dotted for part in name.split(".")[1:])

    def _anchors(self, candidates: list[tuple[_Item, ast.Attribute]]) -> tuple[Anchor, ...] | None:
        ordered = sorted(
            candidates,
            key=lambda c: (c[1].lineno, c[1].col_offset, -(c[1].end_lineno or 0), -(c[1].end_col_offset or 0)),
        )
        anchors: list[Anchor] = []
        for item, node in ordered:
            end_line = node.end_lineno or node.lineno
            end_column = node.end_col_offset or 0
            attr = node.attr.encode()
            if self._utf8_line(end_line)[end_column - len(attr) : end_column] != attr:
                return None  # a position CPython got wrong (old f-string quirks): do not trust any
            line = self._utf8_line(node.lineno)
            column = node.col_offset if line.isascii() else len(line[: node.col_offset].decode("utf-8", "replace"))
            anchors.append(Anchor(node.lineno, column, node.attr, item.function))
        return tuple(anchors)

    def _utf8_line(self, line: int) -> bytes:
        """CPython's columns count UTF-8 bytes of the decoded line, whatever the file's encoding."""
        text = self.lines[line - 1]
        if self.encoding in ("utf-8", "utf-8-sig") or text.isascii():
            return text
        return text.decode(self.encoding, "replace").encode("utf-8")

    # --- the fixpoint ----------------------------------------------------------------------------------
    def _mark(self, candidates: list[tuple[_Item, ast.Attribute]]) -> None:
        self.groups = self._line_groups()
        for item in self.items:
            for group in {self.groups[line - 1] for line in item.own}:
                self.by_group.setdefault(group, []).append(item)
            for name in _binds(item.node, self.has_walrus):
                self.binders.setdefault(name, []).append(item)
        for item, attribute in candidates:
            self._keep(item)
            self._consult(_receiver_names(attribute.value))
        for item in self.items:
            # An import binding no consulted name changes no answer, so only these stay regardless:
            # ``__future__`` imports must stay first, and a star import binds names nobody can list.
            node = item.node
            if isinstance(node, ast.ImportFrom) and (
                node.module == "__future__" or any(alias.name == "*" for alias in node.names)
            ):
                self._keep(item)
        while self.pending:
            name = self.pending.pop()
            for item in self.binders.get(name, ()):
                self._keep(item)
                self._consult(_binding_deps(item.node, name, self.has_walrus))

    def _line_groups(self) -> list[int]:
        """Physical lines joined by a trailing backslash form one group; a group is kept whole."""
        groups: list[int] = []
        group = 0
        for index in range(len(self.lines)):
            if index and not self.lines[index - 1].rstrip(b"\r\n").endswith(b"\\"):
                group += 1
            groups.append(group)
        return groups

    def _consult(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self.names:
                self.names.add(name)
                self.pending.append(name)

    def _keep(self, item: _Item) -> None:
        stack = [item]
        while stack:
            current = stack.pop()
            if current.kept:
                continue
            current.kept = True
            if current.parent is not None:
                stack.append(current.parent)
            for group in {self.groups[line - 1] for line in current.own}:
                stack.extend(self.by_group.get(group, ()))
            if isinstance(current.node, ast.ClassDef):
                # resolve_class_attribute walks base classes by name: their statements must exist
                self._consult(_names_in(current.node.bases))

    # --- the text ---------------------------------------------------------------------------------
    def _idle_decorator_lines(self, item: _Item, candidate_lines: set[tuple[int, int]]) -> Iterator[int]:
        """Lines of decorators the collector cannot see: no facade attribute in them, and not a bare
        name (``@staticmethod`` decides what ``self`` is). A walrus could bind a name: keep them all."""
        if self.has_walrus or not isinstance(item.node, (*_DEFS, ast.ClassDef)):
            return
        for decorator in item.node.decorator_list:
            lines = range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1)
            if isinstance(decorator, ast.Name) or any((id(item), line) in candidate_lines for line in lines):
                continue
            yield from lines

    def _short_header(self, item: _Item, candidate_lines: set[tuple[int, int]]) -> tuple[list[int], bytes] | None:
        """A one-line ``def`` header with only what the collector reads, for the header's lines.

        The collector reads a function's name, ``async``, and its first positional parameter (the
        instance); the resolver reads the annotation and default of a parameter whose name it
        consults. Those stay, verbatim; other parameters bind names nobody consults and go, as do
        return annotations. A dropped default becomes ``...`` (the defaults stay well-formed).
        """
        node = item.node
        if not isinstance(node, _DEFS) or self.has_walrus or getattr(node, "type_params", None):
            return None
        lines = [line for line in item.own if line >= node.lineno]
        first = item.children[0][0]
        if not lines or first.shared or any((id(item), line) in candidate_lines for line in lines):
            return None
        if not all(self.lines[line - 1].isascii() for line in range(lines[0], lines[-1] + 1)):
            return None  # byte columns equal characters, and names are as written
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
        pairs = list(zip(positional, [*defaults, *arguments.defaults], strict=True))
        # The first positional parameter is the instance; others matter only when consulted.
        wanted = [(arg, default) for index, (arg, default) in enumerate(pairs) if index == 0 or arg.arg in self.names]
        posonly = {id(arg) for arg in arguments.posonlyargs}
        parts = [self._parameter(arg, default, "") for arg, default in wanted if id(arg) in posonly]
        if parts:
            parts.append("/")
        parts += [self._parameter(arg, default, "") for arg, default in wanted if id(arg) not in posonly]
        keywords = [
            (arg, default)
            for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            if arg.arg in self.names
        ]
        vararg, kwarg = arguments.vararg, arguments.kwarg
        if vararg is not None and vararg.arg in self.names:
            parts.append(self._parameter(vararg, None, "*"))
        elif keywords:
            parts.append("*")
        parts += [self._parameter(arg, default, "") for arg, default in keywords]
        if kwarg is not None and kwarg.arg in self.names:
            parts.append(self._parameter(kwarg, None, "**"))
        text = self.lines[node.lineno - 1]
        indent = text[: len(text) - len(text.lstrip(b" \t\f"))]
        keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
        header = f"{keyword} {node.name}({', '.join(parts)}):".encode()
        return lines, indent + header + text[len(text.rstrip(b"\r\n")) :]

    def _parameter(self, arg: ast.arg, default: ast.expr | None, star: str) -> str:
        if arg.arg not in self.names:
            return star + arg.arg + ("=..." if default is not None else "")
        text = star + self._segment(arg)
        return text + "=" + self._segment(default) if default is not None else text

    def _segment(self, node: ast.expr | ast.arg) -> str:
        """The source text of ``node`` (ASCII lines only), comments and line breaks included."""
        first, last = node.lineno, node.end_lineno or node.lineno
        start, end = node.col_offset, node.end_col_offset
        if first == last:
            return self.lines[first - 1][start:end].decode()
        middle = b"".join(self.lines[first : last - 1])
        return (self.lines[first - 1][start:] + middle + self.lines[last - 1][:end]).decode()

    def _without_arguments(self, item: _Item, attributes: list[ast.Attribute]) -> bytes | None:
        """The text of a simple statement holding facade attributes, with the arguments of its
        calls removed where the collector cannot see them: no facade attribute or walrus among
        them, not inside a receiver (whose text is reported) nor an annotation (``Depends(...)``
        in ``Annotated`` is read). None when there is nothing to remove or the statement shares
        its lines."""
        node = item.node
        if not attributes or item.children or item.shared or self.encoding not in ("utf-8", "utf-8-sig"):
            return None
        if any(self.by_group[group] != [item] for group in {self.groups[line - 1] for line in item.own}):
            return None
        if self.lines[item.end - 1].rstrip(b"\r\n").endswith(b"\\"):
            return None
        receivers = {id(attribute.value) for attribute in attributes}
        calls: list[ast.Call] = []
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            if id(current) in receivers or isinstance(current, ast.JoinedStr):
                continue
            if isinstance(current, ast.AnnAssign):
                stack.extend(part for part in (current.target, current.value) if part is not None)
            elif isinstance(current, ast.Call) and (current.args or current.keywords) and not self._seen_in(current):
                calls.append(current)
                stack.append(current.func)
            else:
                stack.extend(ast.iter_child_nodes(current))
        if not calls:
            return None
        text = b"".join(self.lines[item.start - 1 : item.end])
        starts = [0]
        for line in self.lines[item.start - 1 : item.end - 1]:
            starts.append(starts[-1] + len(line))
        pieces: list[bytes] = []
        position = 0

        def offset(line: int | None, column: int | None) -> int:
            return starts[(line or item.start) - item.start] + (column or 0)

        for call in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
            opening = _opening_paren(text, offset(call.func.end_lineno, call.func.end_col_offset))
            closing = offset(call.end_lineno, call.end_col_offset) - 1
            if opening is None or opening >= closing or text[closing : closing + 1] != b")" or opening < position:
                return None
            pieces.append(text[position : opening + 1])
            position = closing
        pieces.append(text[position:])
        return b"".join(pieces)

    def _seen_in(self, call: ast.Call) -> bool:
        """Whether the collector or resolver could see anything in the call's arguments."""
        for argument in [*call.args, *(keyword.value for keyword in call.keywords)]:
            for child in ast.walk(argument):
                if isinstance(child, ast.NamedExpr):
                    return True
                if isinstance(child, ast.Attribute) and self.spec.is_facade_method(child.attr):
                    return True
        return False

    def _emit(self, candidates: list[tuple[_Item, ast.Attribute]]) -> bytes | None:
        keep: set[int] = set()
        passes: dict[int, bytes] = {}  # line -> the text that replaces it
        candidate_lines = {(id(item), attribute.lineno) for item, attribute in candidates}
        attributes: dict[int, list[ast.Attribute]] = {}
        for holder, attribute in candidates:
            attributes.setdefault(id(holder), []).append(attribute)
        for item in self.items:
            if not item.kept:
                continue
            keep.update(item.own)
            keep.difference_update(self._idle_decorator_lines(item, candidate_lines))
            header = self._short_header(item, candidate_lines)
            if header is not None:
                lines, text = header
                keep.difference_update(lines)
                passes[lines[0]] = text
            short = self._without_arguments(item, attributes.get(id(item), []))
            if short is not None:
                keep.difference_update(item.own)
                passes[item.start] = short
            for block in item.children:
                if any(child.kept for child in block):
                    continue
                first = block[0]
                if first.shared:
                    return None  # it shares its header's line, so it should have been kept
                if isinstance(first.node, ast.If) and self._is_elif(first.node):
                    continue  # a dropped ``elif`` clause simply goes, there is no ``else:`` to fill
                text = self.lines[first.start - 1]
                indent = text[: len(text) - len(text.lstrip(b" \t\f"))]
                passes[first.start] = indent + b"pass" + text[len(text.rstrip(b"\r\n")) :]
        for line in (1, 2):  # an encoding cookie, or a comment that could be one
            if line <= len(self.lines) and self.lines[line - 1].lstrip().startswith(b"#"):
                keep.add(line)
        if keep & passes.keys():
            return None
        for line in sorted(keep):  # a kept line continued by a backslash keeps the next one
            while self.lines[line - 1].rstrip(b"\r\n").endswith(b"\\") and line < len(self.lines):
                line += 1
                keep.add(line)
        out = [_BOM] if self.bom else []
        for line in sorted(keep | passes.keys()):
            out.append(passes.get(line) or self.lines[line - 1])
        source = b"".join(out)
        self.lines_kept = len(source.splitlines())
        return source

    def _is_elif(self, node: ast.If) -> bool:
        return self.lines[node.lineno - 1][node.col_offset :].startswith(b"elif")


# --- ast helpers --------------------------------------------------------------------------------------


def _opening_paren(text: bytes, position: int) -> int | None:
    """Where a call's ``(`` is, from the end of its callee: past spaces, line continuations,
    comments and the callee's closing parentheses."""
    while position < len(text):
        char = text[position : position + 1]
        if char == b"(":
            return position
        if char == b"#":
            end = text.find(b"\n", position)
            position = len(text) if end < 0 else end
        elif char in b" \t\f\r\n\\)":
            position += 1
        else:
            return None
    return None


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists of a compound statement, in source order (empty for a simple one)."""
    if isinstance(node, _TRY):
        lists = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
    elif isinstance(node, ast.Match):
        lists = [case.body for case in node.cases]
    else:
        lists = [getattr(node, name, None) or [] for name in ("body", "orelse")]
    return [statements for statements in lists if statements]


def _qualname(frames: tuple[tuple[bool, str], ...], name: str) -> str:
    """The collector's qualified name for a def or class nested in ``frames``."""
    if not frames:
        return nested_qualname(None, False, name)
    is_function, parent = frames[-1]
    return nested_qualname(parent, is_function, name)


def _own_nodes(node: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a statement's own part: for a compound statement, not those of its blocks."""
    stack = [child for child in ast.iter_child_nodes(node) if not isinstance(child, ast.stmt)]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for child in ast.iter_child_nodes(current) if not isinstance(child, ast.stmt))


def _target_names(target: ast.expr, into: set[str]) -> None:
    if isinstance(target, ast.Name):
        into.add(target.id)
    elif isinstance(target, ast.Attribute):
        into.add(target.attr)  # self.x = ... is how the resolver learns what self.x holds
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            _target_names(element, into)
    elif isinstance(target, ast.Starred):
        _target_names(target.value, into)


def _all_args(arguments: ast.arguments) -> list[ast.arg]:
    found = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    return found + [a for a in (arguments.vararg, arguments.kwarg) if a is not None]


def _args_with_defaults(arguments: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    pairs = list(zip(positional, [*defaults, *arguments.defaults], strict=True))
    pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
    return pairs + [(a, None) for a in (arguments.vararg, arguments.kwarg) if a is not None]


def _binds(node: ast.stmt, has_walrus: bool) -> set[str]:
    """Names a statement's own part binds in its scope (comprehension and lambda variables bind in
    their own scopes, which only the statement itself can see)."""
    names: set[str] = set()
    if isinstance(node, ast.Assign | ast.Delete):
        for target in node.targets:
            _target_names(target, names)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
        _target_names(node.target, names)
    elif isinstance(node, ast.With | ast.AsyncWith):
        for with_item in node.items:
            if with_item.optional_vars is not None:
                _target_names(with_item.optional_vars, names)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    elif isinstance(node, ast.Global | ast.Nonlocal):
        names.update(node.names)
    elif isinstance(node, _DEFS):
        names.add(node.name)
        names.update(arg.arg for arg in _all_args(node.args))
    elif isinstance(node, ast.ClassDef):
        names.add(node.name)
    elif isinstance(node, _TRY):
        names.update(handler.name for handler in node.handlers if handler.name)
    elif isinstance(node, ast.Match):
        for case in node.cases:
            for pattern in ast.walk(case.pattern):
                for attribute in ("name", "rest"):
                    bound = getattr(pattern, attribute, None)
                    if isinstance(bound, str):
                        names.add(bound)
    for param in getattr(node, "type_params", None) or []:  # Python 3.12+
        names.add(getattr(param, "name", ""))
    alias_name = getattr(node, "name", None)  # ``type X = ...`` (Python 3.12+)
    if isinstance(alias_name, ast.Name):
        names.add(alias_name.id)
    if has_walrus:
        for child in _own_nodes(node):
            if isinstance(child, ast.NamedExpr):
                _target_names(child.target, names)
    return names


def _binding_deps(node: ast.stmt, name: str, has_walrus: bool) -> set[str]:
    """Names whose bindings the resolver reads when it follows this statement's binding of ``name``."""
    names: set[str] = set()
    if isinstance(node, ast.Assign):
        names |= _receiver_names(node.value)
    elif isinstance(node, ast.AnnAssign):
        names |= _names_in([node.annotation])
        if node.value is not None:
            names |= _receiver_names(node.value)
    elif isinstance(node, ast.With | ast.AsyncWith):
        for with_item in node.items:
            if with_item.optional_vars is not None:
                names |= _receiver_names(with_item.context_expr)
    elif isinstance(node, _DEFS):
        for arg, default in _args_with_defaults(node.args):
            if arg.arg == name:
                names |= _names_in([e for e in (arg.annotation, default) if e is not None])
    elif isinstance(node, ast.ClassDef):
        names |= _names_in(node.bases)
    if has_walrus:
        for child in _own_nodes(node):
            if isinstance(child, ast.NamedExpr):
                names |= _receiver_names(child.value)
    return names


def _receiver_names(expr: ast.expr) -> set[str]:
    """What ``FacadeResolver.resolve`` consults for this expression: mirrors its cases."""
    if isinstance(expr, ast.Call):
        return _names_in([expr.func])
    if isinstance(expr, ast.BoolOp):
        return set().union(*(_receiver_names(value) for value in expr.values))
    if isinstance(expr, ast.IfExp):
        return _receiver_names(expr.body) | _receiver_names(expr.orelse)
    if isinstance(expr, ast.Name):
        return {expr.id}
    if isinstance(expr, ast.Attribute):
        return {expr.attr}
    return set()


def _names_in(expressions: Iterable[ast.expr]) -> set[str]:
    """Every name in the expressions, with the identifiers of string annotations."""
    names: set[str] = set()
    for expression in expressions:
        for node in ast.walk(expression):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.update(_IDENTIFIER.findall(node.value))
    return names
