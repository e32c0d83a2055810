"""The arguments of a rewritten facade call, laid out as the plan's mapping says (no codemod lives here).

A mapping renames keywords (``args``) and, when it reshapes the call (``positional``, ``constants``,
``pack``), binds the call's arguments to the facade method's parameters — read from the tree — and
lays them out anew: the listed positional arguments first, then the parameter object, then every
other argument as a keyword, then the constants. Anything that cannot be bound for certain (a
``*args`` or ``**kwargs`` in the call, an argument the facade method does not take) is a problem,
reported rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from asyncmigrate.analysis.collector import THREAD_HOPS, callee_name
from asyncmigrate.analysis.signatures import Signature
from asyncmigrate.config.plan import Mapping

_NO_SPACE = cst.SimpleWhitespace("")


class ShapeError(Exception):
    """The call's arguments cannot be mapped; the message says why."""


def _is_positional(arg: cst.Arg) -> bool:
    return arg.keyword is None and arg.star != "**"


def _clean(arg: cst.Arg) -> cst.Arg:
    """The argument without the comma and spacing of its old place (new places get the defaults)."""
    return arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=_NO_SPACE)


def positional_arg(value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value)


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
    )


def forwarded_args(call: cst.Call, hop: bool) -> list[cst.Arg]:
    """The arguments the facade method receives: the call's own, or for a thread hop
    (``to_thread(f, *a, **k)``, ``run_in_executor(ex, f, *a)``, either with ``partial(f, *p, **q)``)
    the partial's then the hop's, positional before keywords, as the hop would pass them."""
    if not hop:
        return list(call.args)
    index = THREAD_HOPS[callee_name(call.func) or ""]
    rest = list(call.args[index + 1 :])
    handed = call.args[index].value
    inner: list[cst.Arg] = list(handed.args[1:]) if isinstance(handed, cst.Call) else []
    merged = [a for a in inner if _is_positional(a)] + [a for a in rest if _is_positional(a)]
    merged += [a for a in inner if not _is_positional(a)] + [a for a in rest if not _is_positional(a)]
    return [_clean(a) for a in merged]


def renamed(args: Sequence[cst.Arg], renames: dict[str, str]) -> list[cst.Arg]:
    return [
        arg.with_changes(keyword=cst.Name(renames[arg.keyword.value]))
        if arg.keyword is not None and arg.keyword.value in renames
        else arg
        for arg in args
    ]


def _bind(args: Sequence[cst.Arg], facade: Signature) -> tuple[dict[str, cst.Arg], list[str], list[cst.Arg]]:
    """Facade parameter -> argument, the parameters given positionally (in order), and keyword
    arguments the facade takes through ``**kwargs``."""
    bound: dict[str, cst.Arg] = {}
    given_positionally: list[str] = []
    extra: list[cst.Arg] = []
    for arg in args:
        if arg.star:
            raise ShapeError(f"the call passes `{arg.star}…`, which cannot be bound to {facade.text}")
        if arg.keyword is None:
            index = len(given_positionally)
            if index >= len(facade.positional):
                raise ShapeError(f"the call passes more positional arguments than {facade.text} takes")
            name = facade.positional[index]
            given_positionally.append(name)
            bound[name] = arg
            continue
        name = arg.keyword.value
        if name in bound:
            raise ShapeError(f"the call passes {name!r} twice")
        if name in facade.positional[facade.posonly :] or name in facade.kwonly:
            bound[name] = arg
        elif facade.varkw:
            extra.append(arg)
        else:
            raise ShapeError(f"{facade.text} takes no keyword {name!r}")
    return bound, given_positionally, extra


def _as_positional(arg: cst.Arg) -> cst.Arg:
    return _clean(arg).with_changes(keyword=None, equal=cst.MaybeSentinel.DEFAULT)


def _as_keyword(arg: cst.Arg, name: str) -> cst.Arg:
    if arg.keyword is not None:
        return _clean(arg).with_changes(keyword=cst.Name(name))
    return _clean(arg).with_changes(
        keyword=cst.Name(name), equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE)
    )


def reshaped(
    args: Sequence[cst.Arg], mapping: Mapping, facade: Signature | None, pack_class: str | None
) -> list[cst.Arg]:
    """The target call's arguments for a mapping that reshapes the call (``mapping.reshapes``);
    ``pack_class`` is the name the parameter class goes by in the module. Raises ShapeError."""
    if facade is None:
        raise ShapeError(
            f"the facade method {mapping.facade_method} is not defined in the tree, so its arguments cannot be bound"
        )
    bound, given_positionally, extra = _bind(args, facade)
    renames = dict(mapping.args)
    known = set(facade.positional) | set(facade.kwonly)
    packed = [name for name, _ in mapping.pack.fields] if mapping.pack else []
    for name in [*(mapping.positional or ()), *packed]:
        if name not in known:
            raise ShapeError(f"the plan names {name!r}, which is not a parameter of {facade.text}")
    order = list(mapping.positional) if mapping.positional is not None else given_positionally
    out: list[cst.Arg] = []
    used: set[str] = set()
    gap = False
    for name in order:
        if name in packed:
            continue
        if name not in bound:
            gap = True  # an omitted argument: what follows can only be passed by keyword
            continue
        if not gap:
            out.append(_as_positional(bound[name]))
            used.add(name)
    packed_object: cst.Arg | None = None
    if mapping.pack is not None:
        assert pack_class is not None
        fields = [keyword_arg(field, _clean(bound[name]).value) for name, field in mapping.pack.fields if name in bound]
        used.update(packed)
        value = cst.Call(func=cst.parse_expression(pack_class), args=fields)
        if mapping.pack.keyword is None:
            if gap or any(name not in used and name not in packed for name in bound):
                raise ShapeError(
                    "the parameter object would follow an argument passed by keyword; "
                    "list the parameters before it under `positional`"
                )
            out.append(positional_arg(value))
        else:
            packed_object = keyword_arg(mapping.pack.keyword, value)
    for name, arg in bound.items():
        if name not in used:
            out.append(_as_keyword(arg, renames.get(name, name)))
    out.extend(_as_keyword(arg, renames.get(arg.keyword.value, arg.keyword.value)) for arg in extra if arg.keyword)
    if packed_object is not None:
        out.append(packed_object)
    out.extend(keyword_arg(name, cst.parse_expression(literal)) for name, literal in mapping.constants)
    return out


def call_shape(args: Sequence[cst.Arg]) -> tuple[int, list[str], bool]:
    """How many positional arguments, which keywords, and whether ``*``/``**`` hides more."""
    positional = sum(1 for a in args if a.keyword is None and not a.star)
    keywords = [a.keyword.value for a in args if a.keyword is not None]
    return positional, keywords, any(a.star for a in args)
