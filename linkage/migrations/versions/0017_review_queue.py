"""candidate_pair.queue_value: the review queue officers are shown, inside the review band

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Every review-band pair stays stored (the estimate takes the band as links and as non-links,
flags name the pairs that may close them); the queue is the part worth a person's time
(linkage/match/queue.py), marked by the chance that "same" is right (its order). Open pairs stored before this revision
stay in the queue, with value 0 (behind every pair a run has ranked): an officer's queue does
not empty itself on an upgrade, and a link run that meets them again ranks them anew.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("candidate_pair") as batch:
        batch.add_column(sa.Column("queue_value", sa.Double(), nullable=True))
        batch.create_index(batch.f("ix_candidate_pair_queue_value"), ["queue_value"], unique=False)
    op.execute("UPDATE candidate_pair SET queue_value = 0 WHERE band = 'review' AND status = 'open'")


def downgrade() -> None:
    with op.batch_alter_table("candidate_pair") as batch:
        batch.drop_index(batch.f("ix_candidate_pair_queue_value"))
        batch.drop_column("queue_value")
