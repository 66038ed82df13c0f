"""Order modules so each is loaded after the modules it depends on."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import HarnessError


def load_order(depends: Mapping[str, set[str]]) -> list[str]:
    """Names of `depends` so that every name follows its dependencies.

    Dependencies outside the mapping (the guest kernel's own modules) are
    ignored; ties are broken by name so the order is reproducible.
    """
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            raise HarnessError("module dependency cycle: "
                               + " -> ".join(chain + (name,)))
        state[name] = "active"
        for dep in sorted(depends[name]):
            if dep in depends:
                visit(dep, chain + (name,))
        state[name] = "done"
        order.append(name)

    for name in sorted(depends):
        visit(name, ())
    return order
