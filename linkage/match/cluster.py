"""From scored pairs to persons, without chaining weak links into giant clusters.

Why not plain connected components: one wrong link between two brothers would join two
whole families. Links are taken strongest first and a merge is refused when the two
groups would hold a pair a reviewer called different, grow past a cap, or when the pairs
between them that were actually compared mostly say "not the same man".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# A compared pair below this probability counts against merging its two groups: the model
# thinks "different" likelier than "same".
AGAINST = 0.5


@dataclass
class ClusterOutcome:
    """Cluster label per position, and the links that were refused (for review)."""

    labels: np.ndarray
    refused: list[tuple[int, int, str]] = field(default_factory=list)


class _Groups:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        return ra


def cluster(
    n: int,
    left: np.ndarray,
    right: np.ndarray,
    prob: np.ndarray,
    link_threshold: float,
    max_size: int,
    initial: np.ndarray | None = None,
    same: list[tuple[int, int]] | None = None,
    different: list[tuple[int, int]] | None = None,
) -> ClusterOutcome:
    """Greedy, constrained clustering of n positions.

    initial: a starting label per position (stored persons), or -1 for a new record.
    same / different: reviewers' decisions as position pairs; "same" is always applied,
    "different" is never merged across.
    """
    groups = _Groups(n)
    if initial is not None:
        first: dict[int, int] = {}
        for pos, lab in enumerate(initial.tolist()):
            if lab < 0:
                continue
            if lab in first:
                groups.union(first[lab], pos)
            else:
                first[lab] = pos
    scored = {(int(a), int(b)): float(p) for a, b, p in zip(left, right, prob, strict=True)}
    apart: dict[int, set[int]] = {}
    for a, b in different or []:
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    for a, b in same or []:
        groups.union(a, b)

    refused: list[tuple[int, int, str]] = []
    order = np.argsort(-prob, kind="stable")
    for k in order:
        p = float(prob[k])
        if p < link_threshold:
            break
        a, b = int(left[k]), int(right[k])
        ra, rb = groups.find(a), groups.find(b)
        if ra == rb:
            continue
        ma, mb = groups.members[ra], groups.members[rb]
        if any(x in apart and apart[x].intersection(mb) for x in ma):
            refused.append((a, b, "a reviewer said different"))
            continue
        if len(ma) + len(mb) > max_size:
            refused.append((a, b, "person would grow past the size cap"))
            continue
        links = against = 0
        for x in ma:
            for y in mb:
                q = scored.get((x, y) if x < y else (y, x))
                if q is None:
                    continue
                if q >= link_threshold:
                    links += 1
                elif q < AGAINST:
                    against += 1
        if against >= links:
            refused.append((a, b, "most compared pairs between the two say different"))
            continue
        groups.union(a, b)
    labels = np.array([groups.find(i) for i in range(n)], dtype=np.int64)
    return ClusterOutcome(labels=labels, refused=refused)
