"""Backup and restore: every table as JSON lines plus every stored file, in one folder.

`create(dir)` reads all tables inside ONE read-only transaction (PostgreSQL: REPEATABLE
READ, so a snapshot even while the site takes donations; SQLite: the transaction holds the
database), writes `db/<table>.jsonl` (one row per line, in primary-key order), copies the
documents and generated files from the app's storage (folder or S3) into `documents/` and
`files/`, and writes `manifest.json` last: schema revision, row counts, the donation sum and
a digest of the receipt numbers, so `restore` can check what it loaded. A folder without
a manifest is an unfinished backup and is refused.

`restore(dir)` loads into an EMPTY database at the same schema revision (run `flask db
upgrade` first), with foreign keys checked at commit, resets PostgreSQL's id sequences,
puts the files back and compares counts, sum and receipt digest with the manifest. Portable:
a backup of SQLite restores into PostgreSQL and the other way round.
"""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.services import files
from app.services.bulk_rows import may_turn_triggers_off

FORMAT = 1


def _encode(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _decoder(column: sa.Column):
    kind = column.type
    python = None
    try:
        python = getattr(kind, "impl_instance", kind).python_type
    except NotImplementedError:
        pass
    if python is datetime:
        def parse(v):
            d = datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
        return parse
    if python is date:
        return date.fromisoformat
    if python is Decimal:
        return Decimal
    if python is bytes:
        return base64.b64decode
    return None


def tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def checks(connection) -> dict:
    """Figures a restore must reproduce exactly."""
    from app.models import Donation, Receipt

    numbers = connection.execute(sa.select(Receipt.number).order_by(Receipt.year, Receipt.sequence)).scalars()
    digest = hashlib.sha256("\n".join(numbers).encode()).hexdigest()
    return {
        "donation_amount_sum": int(connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(Donation.amount), 0)))),
        "receipt_numbers_sha256": digest,
        "receipt_count": int(connection.scalar(sa.select(sa.func.count()).select_from(Receipt))),
    }


def _copy_storage(source, target_dir: Path) -> int:
    count = 0
    for key in source.keys():
        path = target_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.get(key))
        count += 1
    return count


def create(output: str | Path) -> dict:
    out = Path(output)
    if (out / "manifest.json").exists():
        raise Conflict(f"{out} already holds a backup.")
    (out / "db").mkdir(parents=True, exist_ok=True)
    engine = db.engine
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
            for table in tables():
                order = list(table.primary_key.columns) or list(table.columns)
                n = 0
                with open(out / "db" / f"{table.name}.jsonl", "w", encoding="utf-8") as handle:
                    result = connection.execution_options(yield_per=2000).execute(
                        sa.select(table).order_by(*order))
                    names = list(result.keys())
                    for row in result:
                        handle.write(json.dumps([_encode(v) for v in row], ensure_ascii=False))
                        handle.write("\n")
                        n += 1
                (out / "db" / f"{table.name}.columns.json").write_text(json.dumps(names))
                counts[table.name] = n
            figures = checks(connection)
    documents = _copy_storage(files.documents(), out / "documents")
    generated = _copy_storage(files.files(), out / "files")
    manifest = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(),
                "dialect": engine.dialect.name, "revision": revision, "counts": counts,
                "documents": documents, "files": generated, **figures}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def restore(source: str | Path) -> dict:
    src = Path(source)
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except FileNotFoundError:
        raise ValidationFailed(f"{src} has no manifest.json: not a finished backup.") from None
    engine = db.engine
    db.session.remove()
    with engine.connect() as connection:
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        if revision != manifest["revision"]:
            raise Conflict(f"Database schema is {revision}, the backup is {manifest['revision']}: "
                           "run `flask --app wsgi db upgrade` to the same revision first.")
        for table in tables():
            if connection.scalar(sa.select(sa.func.count()).select_from(table)):
                raise Conflict(f"Table {table.name} is not empty: restore needs an empty database.")
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        elif may_turn_triggers_off(connection):
            # Rows referring to later rows (a merged donor pointing at its survivor): skip
            # foreign-key triggers while loading what was consistent when it was read.
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in tables():
            path = src / "db" / f"{table.name}.jsonl"
            if not path.exists():
                continue
            names = json.loads((src / "db" / f"{table.name}.columns.json").read_text())
            decoders = [_decoder(table.c[name]) for name in names]
            batch: list[dict] = []
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    values = json.loads(line)
                    batch.append({name: (dec(v) if dec and v is not None else v)
                                  for name, dec, v in zip(names, decoders, values)})
                    if len(batch) >= 2000:
                        _insert(connection, table, batch)
                        batch = []
            _insert(connection, table, batch)
        if engine.dialect.name == "postgresql":
            for table in tables():
                if "id" in table.c and isinstance(table.c.id.type, sa.Integer) and table.c.id.autoincrement:
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false) "
                        f"WHERE pg_get_serial_sequence('{table.name}', 'id') IS NOT NULL")
    _put_back(src / "documents", files.documents())
    _put_back(src / "files", files.files())
    with engine.connect() as connection:
        counts = {t.name: int(connection.scalar(sa.select(sa.func.count()).select_from(t))) for t in tables()}
        figures = checks(connection)
    problems = [f"{name}: {counts.get(name)} rows, backup had {n}"
                for name, n in manifest["counts"].items() if counts.get(name) != n]
    problems += [f"{k}: {figures[k]} != {manifest[k]}" for k in figures if figures[k] != manifest.get(k)]
    if problems:
        raise Conflict("Restore does not match the backup: " + "; ".join(problems))
    return {"counts": counts, **figures}


def _insert(connection, table: sa.Table, rows: list[dict]) -> None:
    if rows:
        connection.execute(table.insert(), rows)


def _put_back(folder: Path, storage) -> int:
    if not folder.is_dir():
        return 0
    count = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            storage.put(path.relative_to(folder).as_posix(), path.read_bytes())
            count += 1
    return count


def remove_partial(output: str | Path) -> None:
    out = Path(output)
    if out.exists() and not (out / "manifest.json").exists():
        shutil.rmtree(out)
