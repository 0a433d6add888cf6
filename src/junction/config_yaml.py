"""Reading the config file's YAML: plain values, the line of every key, and
which values came from ``${VAR}``.

Stricter than ``yaml.safe_load`` where a config file needs it:

- a mapping key given twice is an error naming both lines (PyYAML keeps
  the last one silently, so a second model of the same name replaced the
  first);
- keys are non-empty plain scalars; merge keys (``<<``) and tags other
  than YAML's own scalar, mapping and sequence tags are refused;
- anchors and aliases are allowed, but an alias inside the value it names
  (a recursive alias) is refused, and following aliases may build at most
  :data:`MAX_ALIAS_VALUES` values, so a "billion laughs" document is
  refused at once instead of hanging the loader;
- nesting deeper than :data:`MAX_DEPTH` levels is refused;
- dates stay the text they were written as (``api_version: 2024-06-01``).

``${VAR}`` and ``${VAR:-default}`` are expanded in string values; the
:class:`Document` remembers each expansion so that error messages can show
``${VAR}`` instead of the value, which may be a secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences a config may use."""

MAX_ALIAS_VALUES = 10_000
"""Most values that following aliases may build in one document."""

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null"))
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class DocumentError(Exception):
    """A problem with the document, already worded ``file:line: key: what``."""


@dataclass(frozen=True, slots=True)
class Expansion:
    text: str
    """As written in the file, e.g. ``${OPENAI_KEY}``."""
    value: str
    """After expansion: never shown in an error."""


@dataclass(slots=True)
class Document:
    """The values of a YAML document and where each came from."""

    data: Any
    source: str
    lines: dict[str, int] = field(default_factory=dict)
    """``$.models.x.deployments[0]`` -> the line its value starts on (1-based)."""
    expanded: dict[str, Expansion] = field(default_factory=dict)
    """Paths whose value came from ``${VAR}``."""

    def line(self, path: str) -> int:
        """The line of ``path``, or of its nearest ancestor the file names."""
        probe = path
        while probe not in self.lines:
            shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
            if shorter == probe:
                return 1
            probe = shorter
        return self.lines[probe]

    def where(self, path: str) -> str:
        """``file:line: key.path`` for an error about ``path``."""
        return f"{self.source}:{self.line(path)}: {dotted(path) or 'top level'}"

    def scrub(self, message: str, under: str = "$") -> str:
        """``message`` with each expanded value at or below ``under`` shown
        as the ``${VAR}`` text it came from."""
        for path, exp in self.expanded.items():
            if path != under and not path.startswith((under + ".", under + "[")):
                continue
            message = message.replace(repr(exp.value), repr(exp.text))
            if len(exp.value) >= 8:  # long enough not to be part of the wording
                message = message.replace(exp.value, exp.text)
        return message


def dotted(path: str) -> str:
    return path.removeprefix("$.").removeprefix("$")


def read_document(
    text: str,
    env: Mapping[str, str],
    *,
    source: str,
    secret_keys: frozenset[str] = frozenset(),
    secret: Callable[[str], str] = str,
) -> Document:
    """Parse ``text``; string values under a key in ``secret_keys`` are
    wrapped with ``secret``. Raises :class:`DocumentError`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = str(getattr(exc, "problem", None) or exc).replace("\n", " ")
        raise DocumentError(f"{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise DocumentError(
            f"{source}: the document nests deeper than {MAX_DEPTH} levels"
        ) from None
    doc = Document(None, source)
    if node is None:
        return doc
    doc.data = _Builder(doc, env, secret_keys, secret).build(node, "$", 0)
    return doc


class _Builder:
    """Turns composed nodes into plain values, recording lines and expansions."""

    def __init__(
        self,
        doc: Document,
        env: Mapping[str, str],
        secret_keys: frozenset[str],
        secret: Callable[[str], str],
    ) -> None:
        self._doc = doc
        self._env = env
        self._secret_keys = secret_keys
        self._secret = secret
        self._scalars = SafeConstructor()
        self._seen: set[int] = set()
        self._open: set[int] = set()
        self._aliased = 0
        self._alias_values = 0

    def build(self, node: yaml.Node, path: str, depth: int) -> Any:
        doc = self._doc
        doc.lines[path] = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise DocumentError(f"{doc.where(path)}: nested deeper than {MAX_DEPTH} levels")
        if id(node) in self._open:
            raise DocumentError(f"{doc.where(path)}: an alias refers to a value that contains it")
        alias = id(node) in self._seen
        self._seen.add(id(node))
        self._aliased += alias
        self._open.add(id(node))
        try:
            return self._value(node, path, depth)
        finally:
            self._open.discard(id(node))
            self._aliased -= alias

    def _value(self, node: yaml.Node, path: str, depth: int) -> Any:
        if self._aliased:
            self._alias_values += 1
            if self._alias_values > MAX_ALIAS_VALUES:
                raise DocumentError(
                    f"{self._doc.where(path)}: aliases expand to more than "
                    f"{MAX_ALIAS_VALUES} values; write the values out instead"
                )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            self._tag(node, _CORE + "seq", path)
            return [self.build(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: str, depth: int) -> dict[str, Any]:
        self._tag(node, _CORE + "map", path)
        out: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            child = f"{path}.{key}"
            line = key_node.start_mark.line + 1
            if key in key_lines:
                raise DocumentError(
                    f"{self._doc.source}:{line}: {dotted(child)}: given twice (first at line "
                    f"{key_lines[key]}); the second would silently replace the first"
                )
            key_lines[key] = line
            value = self.build(value_node, child, depth + 1)
            if key in self._secret_keys and isinstance(value, str):
                value = self._secret(value)
            out[key] = value
        return out

    def _key(self, node: yaml.Node, path: str) -> str:
        line = node.start_mark.line + 1
        here = f"{self._doc.source}:{line}: {dotted(path) or 'top level'}"
        if node.tag == _CORE + "merge":
            raise DocumentError(f"{here}: merge keys (<<) are not supported; write the keys out")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            raise DocumentError(f"{here}: keys must be plain names, not {_kind(node)}")
        key = str(node.value)
        if node.tag == _CORE + "null" or not key.strip():
            raise DocumentError(f"{here}: a key is empty; give it a name")
        return key

    def _scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        if node.tag == _CORE + "timestamp":
            return node.value
        self._tag(node, None, path)
        value = self._scalars.construct_object(node)
        if isinstance(value, str) and "${" in value:
            expanded = self._expand(value, path)
            if expanded != value:
                self._doc.expanded[path] = Expansion(value, expanded)
            return expanded
        return value

    def _tag(self, node: yaml.Node, expected: str | None, path: str) -> None:
        ok = node.tag == expected if expected is not None else node.tag in _SCALAR_TAGS
        if not ok:
            raise DocumentError(
                f"{self._doc.where(path)}: the tag {node.tag} is not allowed here "
                "(plain YAML only: strings, numbers, booleans, null, mappings, lists)"
            )

    def _expand(self, value: str, path: str) -> str:
        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if self._env.get(name, "") != "":
                return self._env[name]
            if default is not None:
                return default
            raise DocumentError(f"{self._doc.where(path)}: environment variable {name} is not set")

        return _VAR.sub(sub, value)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"a value tagged {node.tag}"
