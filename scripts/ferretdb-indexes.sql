-- Lets PostgreSQL use the indexes the services declare when FerretDB 1.24 queries it.
--
-- FerretDB stores a collection as a table of one jsonb column, `_jsonb`, and turns an index the
-- services create (`create_index("plate")`) into a btree over `(_jsonb -> 'plate')`. Its queries
-- filter with containment, `_jsonb -> 'plate' @> '"ABC123"'`, which a btree cannot answer: every
-- find, even by `_id`, was a sequential scan, so each look-up grew with its collection. For each
-- field of such a btree this adds a GIN twin over the expression FerretDB's queries use
-- (`jsonb_path_ops`, which answers `@>`), now and for every index FerretDB creates later (an
-- event trigger). FerretDB passes the field name as a parameter, so the server must plan each
-- query with its values (`plan_cache_mode = force_custom_plan`, below). Only the local stand-in
-- needs this: MongoDB uses its indexes itself. See README, "FerretDB and MongoDB". Idempotent:
-- scripts/ferretdb.sh runs it on every start.

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;

-- The GIN index over `expression` on table `source`, if there is one.
CREATE OR REPLACE FUNCTION casewire_gin_twin_of(source regclass, expression text) RETURNS regclass
LANGUAGE sql STABLE AS $$
  SELECT i.indexrelid::regclass
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam
   WHERE i.indrelid = source AND a.amname = 'gin' AND pg_get_indexdef(i.indexrelid, 1, true) = expression
   ORDER BY c.relname
   LIMIT 1
$$;

CREATE OR REPLACE FUNCTION casewire_gin_twins(btree oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  source regclass;
  name text;
  columns int;
  expression text;
BEGIN
  SELECT i.indrelid::regclass, c.relname, i.indnatts INTO source, name, columns
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am a ON a.oid = c.relam
   WHERE i.indexrelid = btree AND a.amname = 'btree' AND i.indexprs IS NOT NULL
     AND c.relname NOT LIKE '\_ferretdb\_%';  -- FerretDB's own metadata, which it reads by SQL
  IF source IS NULL THEN
    RETURN;
  END IF;
  FOR k IN 1 .. columns LOOP
    -- Only a top-level field, `(_jsonb -> 'plate'::text)`: FerretDB reads a dotted field such as
    -- `actor.id` without any filter pushed down, so no index can serve it.
    expression := pg_get_indexdef(btree, k, true);
    CONTINUE WHEN expression !~ '^\(_jsonb -> ''[^'']*''::text\)$';
    -- One twin per field: a field in several btrees (`seq` in four of the audit log's) would otherwise
    -- get a twin for each, and every insert writes to all of them.
    CONTINUE WHEN casewire_gin_twin_of(source, expression) IS NOT NULL;
    EXECUTE format(
      'CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s jsonb_path_ops)',
      left(name, 54) || '_gin' || k, source, expression
    );
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION casewire_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
  created record;
BEGIN
  FOR created IN
    SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index'
  LOOP
    PERFORM casewire_gin_twins(created.objid);
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS casewire_gin_twins;
CREATE EVENT TRIGGER casewire_gin_twins ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION casewire_on_create_index();

-- Indexes FerretDB made before this trigger existed (a state folder from an earlier version).
SELECT casewire_gin_twins(i.indexrelid)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE i.indexprs IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema');

-- Stores made before a table's twins were one per field keep the first and lose the others.
DO $$
DECLARE
  twin record;
BEGIN
  FOR twin IN
    SELECT i.indexrelid::regclass AS name
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am a ON a.oid = c.relam
     WHERE a.amname = 'gin' AND c.relname ~ '_gin[0-9]+$'
       AND casewire_gin_twin_of(i.indrelid::regclass, pg_get_indexdef(i.indexrelid, 1, true)) <> i.indexrelid::regclass
  LOOP
    EXECUTE format('DROP INDEX IF EXISTS %s', twin.name);
  END LOOP;
END $$;
