"""The model step: the spec in force and the weights last fitted, for `survivor-link model show`.

Why here and not in the CLI: the command line only parses and prints; reading the store is
the pipeline's, as for every other command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkage.settings import Settings

if TYPE_CHECKING:
    from linkage.match.model import MatchModel
    from linkage.match.spec import ModelSpec


@dataclass(frozen=True)
class ModelState:
    """The model spec (validated on load) and the newest fitted weights, if any."""

    spec: ModelSpec
    model: MatchModel | None

    @property
    def refits(self) -> bool:
        """The weights were fitted under another spec's features or sessions: the next link
        fits them again."""
        return self.model is not None and self.model.weights_digest != self.spec.weights_digest()


def model_state(settings: Settings) -> ModelState:
    """The spec for these settings, and the weights the store last saved."""
    from linkage.match.linker import latest_model
    from linkage.match.spec import spec_for
    from linkage.store.db import session_scope

    spec = spec_for(settings)
    with session_scope(settings) as s:
        return ModelState(spec, latest_model(s))
