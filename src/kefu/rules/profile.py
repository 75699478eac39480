"""Rule profiles: every number the rules use, with the rule ID it comes from.

A profile is TOML data. The shipped ones (``taobao``, ``tmall``, ``1688``) live beside this
module; a user profile names one of them in ``extends`` and overrides a few values::

    name = "my-shop"
    extends = "taobao"

    [params]
    response_window_start = "09:00"     # a bare value keeps the rule ID of the base
    min_ratings = { value = 20, note = "agreed with our account manager" }

A parameter marked ``assumed`` is one the platform does not publish (RULES.md says so);
kefu shows it as an assumption wherever it shapes a figure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any


def _shipped_names() -> tuple[str, ...]:
    folder = resources.files("kefu.rules").joinpath("profiles")
    names = sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )
    first = ("taobao", "tmall", "1688")  # the platforms first, then profiles for data sets
    return tuple(n for n in first if n in names) + tuple(n for n in names if n not in first)


#: Profiles shipped with kefu: every ``.toml`` file in ``kefu/rules/profiles``.
SHIPPED = _shipped_names()


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Param:
    """One rule parameter: its value, the rule ID it carries and whether it is assumed."""

    name: str
    value: Any
    rule: str
    assumed: bool = False
    note: str = ""
    origin: str = ""


@dataclass(frozen=True)
class Profile:
    """A complete set of rule parameters, resolved through ``extends``."""

    name: str
    description: str
    params: dict[str, Param] = field(default_factory=dict)
    chain: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.params[key].value

    def is_assumed(self, *keys: str) -> bool:
        """True when any of the named parameters is an assumption."""
        return any(self.params[k].assumed for k in keys)

    def override(self, **values: Any) -> Profile:
        """A copy with some values replaced (programmatic counterpart of a user profile)."""
        params = dict(self.params)
        for key, value in values.items():
            if key not in params:
                raise ProfileError(f"profile {self.name}: unknown parameter {key!r}")
            params[key] = replace(params[key], value=value, assumed=False, origin="override")
        return replace(self, params=params)


def _read_toml(source: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None


def _shipped_text(name: str) -> str:
    return resources.files("kefu.rules").joinpath("profiles", f"{name}.toml").read_text("utf-8")


def _merge_params(
    base: dict[str, Param], raw: dict[str, Any], source: str, strict: bool
) -> dict[str, Param]:
    params = dict(base)
    for key, spec in raw.items():
        old = params.get(key)
        if old is None and strict:
            known = ", ".join(sorted(params))
            raise ProfileError(f"{source}: unknown parameter {key!r} (known: {known})")
        if isinstance(spec, dict) and "value" in spec:
            rule = spec.get("rule", old.rule if old else "")
            if not rule:
                raise ProfileError(f"{source}: parameter {key!r} names no rule")
            params[key] = Param(
                key,
                spec["value"],
                rule,
                bool(spec.get("assumed", False)),
                spec.get("note", ""),
                source,
            )
        elif old is not None:
            params[key] = replace(old, value=spec, assumed=False, note="", origin=source)
        else:
            raise ProfileError(f"{source}: parameter {key!r} needs a value and a rule")
    return params


def _resolve(data: dict[str, Any], source: str, seen: tuple[str, ...]) -> Profile:
    name = str(data.get("name") or Path(source).stem)
    if name in seen:
        raise ProfileError(f"{source}: profile {name!r} extends itself")
    parent_name = data.get("extends")
    if parent_name is None:
        base = Profile(name, "", {}, ())
    else:
        base = load_profile(str(parent_name), _seen=(*seen, name))
    params = _merge_params(base.params, data.get("params", {}), source, parent_name is not None)
    description = str(data.get("description", base.description))
    return Profile(name, description, params, (*base.chain, name))


def load_profile(name_or_path: str | Path, _seen: tuple[str, ...] = ()) -> Profile:
    """Load a shipped profile by name, or a user profile from a TOML file.

    >>> load_profile("taobao")["response_limit_s"]
    180
    >>> load_profile("1688").params["max_rating_changes"].assumed
    True
    """
    key = str(name_or_path)
    if key in SHIPPED:
        return _resolve(_read_toml(f"{key}.toml", _shipped_text(key)), key, _seen)
    path = Path(key)
    if not path.is_file():
        raise ProfileError(
            f"{key}: no such profile (shipped: {', '.join(SHIPPED)}; or give a .toml file)"
        )
    return _resolve(_read_toml(str(path), path.read_text("utf-8")), str(path), _seen)
