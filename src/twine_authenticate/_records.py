"""``NamedTuple`` and ``Protocol`` without importing ``typing`` at run time.

Importing typing costs about a quarter of a bare interpreter's start-up, and this tool runs in
every release pipeline, where start-up is most of its time. For the type checker these are
typing's own classes (``TYPE_CHECKING`` is true for it), so every record is checked as a
typing.NamedTuple. At run time a record is what typing.NamedTuple also makes, a
``collections.namedtuple`` with the class body's methods, properties and docstring, and a
protocol is a plain base class (ours are only ever used in annotations). Every module of the
package uses ``from __future__ import annotations``, so a class body's annotations are the
field names in order.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    import collections

    _NOT_COPIED = frozenset({"__annotations__", "__module__", "__qualname__", "_is_records_base"})

    class _RecordType(type):
        def __new__(mcls, name, bases, namespace):
            if namespace.get("_is_records_base"):
                return super().__new__(mcls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[field] for field in fields if field in namespace]
            record = collections.namedtuple(
                name, fields, defaults=defaults, module=namespace["__module__"]
            )
            record.__qualname__ = namespace["__qualname__"]
            for key, value in namespace.items():
                if key not in fields and key not in _NOT_COPIED:
                    setattr(record, key, value)
            return record

    class NamedTuple(metaclass=_RecordType):
        _is_records_base = True

    class Protocol:
        """Only ever used in annotations."""


__all__ = ["TYPE_CHECKING", "NamedTuple", "Protocol"]
