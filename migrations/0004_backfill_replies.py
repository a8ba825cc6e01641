"""Keep the reply of appeals answered before replies were kept (0002): their current
reply_text / replied_at becomes a stored reply, so a redo no longer loses it. And
appeal.rating is the rating of the current reply: an appeal not finished has none (a redo
used to keep the 不满意 that asked for it; that rating stays in its event).

Its round is the number of reply events the appeal had (at least 1): the text kept is the
latest reply, and the staff trail pairs a reply event that names no round with the round of
its position. Actor and label are those of the latest reply event.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

BACKFILL = """
INSERT INTO appeal_reply ("appeal_id", "round", "text", "at", "actor_id", "actor_label",
                          "department_id")
SELECT a.id,
       COALESCE(NULLIF((SELECT COUNT(*) FROM appeal_event e
                        WHERE e.appeal_id = a.id AND e.kind = 'reply'), 0), 1),
       a.reply_text,
       a.replied_at,
       (SELECT e.actor_id FROM appeal_event e WHERE e.appeal_id = a.id AND e.kind = 'reply'
        ORDER BY e.id DESC LIMIT 1),
       COALESCE((SELECT e.actor_label FROM appeal_event e
                 WHERE e.appeal_id = a.id AND e.kind = 'reply' ORDER BY e.id DESC LIMIT 1), ''),
       a.department_id
FROM appeal a
WHERE a.replied_at IS NOT NULL AND a.reply_text <> ''
  AND NOT EXISTS (SELECT 1 FROM appeal_reply r WHERE r.appeal_id = a.id)
"""

# Every status but closed and rejected (app.domain.states FINISHED).
CURRENT_RATING = "UPDATE appeal SET rating = '' WHERE status NOT IN ('closed', 'rejected')" \
    " AND rating <> ''"


class Migration(migrations.Migration):
    dependencies = [('minsheng', '0003_list_indexes')]

    initial = False

    operations = [
        # Backwards there is nothing to undo: 0002 backwards drops the table.
        ops.RunSQL([BACKFILL, CURRENT_RATING], reverse_sql=ops.RunSQL.noop),
    ]
