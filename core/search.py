"""Case- and accent-insensitive search, the same SQL on PostgreSQL and SQLite.

`orderhub_fold(text)` lower-cases text and strips its accents. On PostgreSQL it is a SQL function
over the `unaccent` extension, created by a migration and declared IMMUTABLE so that a trigram
index can be built on it; on SQLite it is `fold` below, registered on each new connection. Both
sides of a comparison go through the same function, so a term folds exactly as the data does.
"""

import unicodedata

from django.db.models import Func, TextField

FOLD_FUNCTION = "orderhub_fold"

# Letters that Unicode does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "æ": "ae", "Æ": "ae"}
)


def fold(text):
    """Lower case without accents: "Lefèvre" -> "lefevre", "STRAßE" -> "strasse"."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


class Fold(Func):
    function = FOLD_FUNCTION
    output_field = TextField()


def register_sqlite_fold(sender, connection, **kwargs):
    """connection_created receiver: gives SQLite the fold function PostgreSQL gets by migration."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
