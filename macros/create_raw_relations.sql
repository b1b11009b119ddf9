{#-
    Makes every table of the raw contract (the `loyalty` source) queryable before any model runs.
    Called from on-run-start. DuckDB reads the files of raw_dir() in place, as views; Spark reads
    them as external tables; PostgreSQL's raw tables come from the loader (`make load-postgres`) or
    already exist, and are checked. Other engines: nothing (the default implementation).
-#}
{#-
    Where the raw files are: var('raw_dir') if given (--vars; the Dagster resource passes it), else
    LOYALTY_RAW_DIR, else data/raw. Read when the hook runs, not in dbt_project.yml: an env var read
    there is part of dbt's partial-parsing state, so every new raw directory would cost a full parse.
-#}
{% macro raw_dir() %}
    {{ return(var('raw_dir', env_var('LOYALTY_RAW_DIR', 'data/raw')).rstrip('/')) }}
{% endmacro %}

{% macro create_raw_relations() %}
    {{ return(adapter.dispatch('create_raw_relations', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__create_raw_relations() %}
    {{ return('select 1') }}
{% endmacro %}

{% macro duckdb__create_raw_relations() %}
    {% if not execute %}{{ return('select 1') }}{% endif %}
    {% set raw_dir = loyalty_kpi.raw_dir() %}
    {% set schema = var('raw_schema', 'raw') %}
    {% set statements = ['create schema if not exists ' ~ adapter.quote(schema)] %}
    {% for source in graph.sources.values() | selectattr('source_name', 'equalto', 'loyalty') | sort(attribute='name') %}
        {% set raw_files = loyalty_kpi.find_raw_files(raw_dir, source.name) %}
        {% if not raw_files %}
            {% if source.meta.get('required', false) %}
                {{ exceptions.raise_compiler_error(
                    "Required raw file missing: no " ~ source.name ~ ".parquet or " ~ source.name ~ ".csv in '"
                    ~ raw_dir ~ "' (LOYALTY_RAW_DIR), nor a directory " ~ source.name ~ "/ of such files. The "
                    ~ "project cannot build without it; see README.md, section 'Raw data contract', for its columns.") }}
            {% endif %}
            {% do exceptions.warn("Optional raw file " ~ source.name ~ " not found in '" ~ raw_dir
                ~ "': read as an empty table, the KPIs that need it are null.") %}
            {% set select_sql = loyalty_kpi.empty_raw_select(source) %}
        {% else %}
            {% set select_sql = loyalty_kpi.raw_file_select(source, raw_files, raw_dir) %}
        {% endif %}
        {% do statements.append('create or replace view ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(source.name)
            ~ ' as ' ~ select_sql) %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{#-
    The files of a raw table, each one delivery (docs/raw_contract.md): <table>.parquet, else <table>.csv,
    else the *.parquet files of the directory <table>/, else its *.csv files (sorted); [] when none.
-#}
{% macro find_raw_files(raw_dir, table) %}
    {% for pattern in [table ~ '.parquet', table ~ '.csv', table ~ '/*.parquet', table ~ '/*.csv'] %}
        {% set found = run_query("select file from glob(" ~ loyalty_kpi.sql_string(raw_dir ~ '/' ~ pattern)
            ~ ") order by file") %}
        {% if found.rows | length > 0 %}{{ return(found.columns[0].values() | list) }}{% endif %}
    {% endfor %}
    {{ return([]) }}
{% endmacro %}

{#-
    A select of the contract's columns from a raw table's files, and `_delivery`: the file each row came
    from, relative to raw_dir (`transactions.parquet`, `transactions/2024-06-01.parquet`). Every file is
    checked: a missing required column stops the run naming the file; extra columns are reported.
-#}
{% macro raw_file_select(source, paths, raw_dir) %}
    {% set csv = paths[0].endswith('.csv') %}
    {% set present_anywhere = [] %}
    {% for path in paths %}
        {% set one = ("read_csv(" ~ loyalty_kpi.sql_string(path) ~ ", header = true, all_varchar = true)") if csv
            else ("read_parquet(" ~ loyalty_kpi.sql_string(path) ~ ")") %}
        {% set described = run_query("describe select * from " ~ one) %}
        {% set present = described.columns[0].values() | map('lower') | list %}
        {% set extra = present | reject('in', source.columns.keys() | list) | list %}
        {% if extra %}
            {% do exceptions.warn("Raw file '" ~ path ~ "' has columns that are not in the raw contract, ignored: "
                ~ extra | join(', ') ~ ".") %}
        {% endif %}
        {% for column in source.columns.values() %}
            {% if column.name in present %}
                {% do present_anywhere.append(column.name) %}
            {% elif not column.meta.get('optional', false) %}
                {{ exceptions.raise_compiler_error(
                    "Raw file '" ~ path ~ "' has no column '" ~ column.name ~ "', which the raw contract requires "
                    ~ "(columns found: " ~ present | join(', ') ~ "). See README.md, section 'Raw data contract'.") }}
            {% endif %}
        {% endfor %}
    {% endfor %}
    {% set literals = [] %}
    {% for path in paths %}{% do literals.append(loyalty_kpi.sql_string(path)) %}{% endfor %}
    {% set options = "filename = '_delivery', union_by_name = true" %}
    {% if csv %}
        {% set reader = "read_csv([" ~ literals | join(', ') ~ "], header = true, all_varchar = true, " ~ options ~ ")" %}
    {% else %}
        {% set reader = "read_parquet([" ~ literals | join(', ') ~ "], " ~ options ~ ")" %}
    {% endif %}
    {% set columns = [] %}
    {% for column in source.columns.values() %}
        {% if column.name in present_anywhere %}
            {% do columns.append(adapter.quote(column.name)) %}
        {% else %}
            {% do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) %}
        {% endif %}
    {% endfor %}
    {% do columns.append('substr("_delivery", ' ~ (raw_dir | length + 2) ~ ') as "_delivery"') %}
    {{ return('select ' ~ columns | join(', ') ~ ' from ' ~ reader) }}
{% endmacro %}

{#- An empty, typed relation with the contract's columns: an absent optional table. -#}
{% macro empty_raw_select(source) %}
    {% set columns = [] %}
    {% for column in source.columns.values() %}
        {% do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) %}
    {% endfor %}
    {% do columns.append('cast(null as varchar) as "_delivery"') %}
    {{ return('select ' ~ columns | join(', ') ~ ' where 1 = 0') }}
{% endmacro %}

{#-
    PostgreSQL: the raw tables are loaded by loyalty_kpi.load_postgres (or are the user's own, in the
    schema var('raw_schema') names). Checked against the contract like the files: a missing required
    table or column stops the run; a missing optional table is created empty, with a warning.
-#}
{% macro postgres__create_raw_relations() %}
    {% if not execute %}{{ return('select 1') }}{% endif %}
    {% set schema = var('raw_schema', 'raw') %}
    {% set found = run_query(
        "select table_name, column_name from information_schema.columns where table_schema = "
        ~ loyalty_kpi.sql_string(schema)) %}
    {% set present = {} %}
    {% for row in found.rows %}{% do present.setdefault(row[0], []).append(row[1]) %}{% endfor %}
    {% set statements = ['select 1'] %}
    {% for source in graph.sources.values() | selectattr('source_name', 'equalto', 'loyalty') | sort(attribute='name') %}
        {% set relation = adapter.quote(schema) ~ '.' ~ adapter.quote(source.name) %}
        {% if source.name not in present %}
            {% if source.meta.get('required', false) %}
                {{ exceptions.raise_compiler_error(
                    "Required raw table missing: no table " ~ schema ~ "." ~ source.name ~ " in database '"
                    ~ target.dbname ~ "'. Load the raw files with `make load-postgres` (LOYALTY_RAW_DIR) or "
                    ~ "point the raw_schema var at your raw tables; see README.md, sections 'Raw data "
                    ~ "contract' and 'Engines'.") }}
            {% endif %}
            {% do exceptions.warn("Optional raw table " ~ schema ~ "." ~ source.name ~ " not found: created "
                ~ "empty, the KPIs that need it are null.") %}
            {% set columns = [] %}
            {% for column in source.columns.values() %}
                {% do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) %}
            {% endfor %}
            {% do columns.append('"_delivery" text') %}
            {% do statements.append('create table if not exists ' ~ relation ~ ' (' ~ columns | join(', ') ~ ')') %}
        {% else %}
            {% if '_delivery' not in present[source.name] %}
                {#- a raw table of your own, without the loader's delivery column: one delivery (null) -#}
                {% do statements.append('alter table ' ~ relation ~ ' add column if not exists "_delivery" text') %}
            {% endif %}
            {% for column in source.columns.values() if column.name not in present[source.name] %}
                {{ exceptions.raise_compiler_error(
                    "Raw table " ~ schema ~ "." ~ source.name ~ " has no column '" ~ column.name ~ "', which "
                    ~ "the raw contract " ~ ("requires" if not column.meta.get('optional', false)
                    else "lists (optional columns must exist on PostgreSQL, null if unknown)")
                    ~ " (columns found: " ~ present[source.name] | join(', ') ~ "). See README.md, "
                    ~ "section 'Raw data contract'.") }}
            {% endfor %}
        {% endif %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{#-
    Spark: each raw file (or directory of delivery files) becomes an external table `<table>__file`
    (Parquet as it is; CSV with a header row, RFC 4180 quoting, every column a string, a malformed row
    failing the run) and `<table>` a view of the contract's columns and `_delivery` over it, checked as on
    DuckDB (a directory: its merged Parquet schema, or its CSV files' first header). raw_dir() must be absolute (a path or a
    URI the cluster can read): a Thrift Server does not share dbt's working directory.
-#}
{% macro spark__create_raw_relations() %}
    {% if not execute %}{{ return('select 1') }}{% endif %}
    {% set raw_dir = loyalty_kpi.raw_dir() %}
    {% if not (raw_dir.startswith('/') or ':/' in raw_dir) %}
        {{ exceptions.raise_compiler_error(
            "LOYALTY_RAW_DIR must be an absolute path (or a URI such as s3a://…) on Spark: got '" ~ raw_dir
            ~ "'. See README.md, section 'Engines'.") }}
    {% endif %}
    {% set schema = var('raw_schema', 'raw') %}
    {% do run_query('create schema if not exists ' ~ schema) %}
    {#- every file under raw_dir, by its path relative to it (a table's directory holds its deliveries) -#}
    {% do run_query("create or replace temporary view loyalty_raw_listing using binaryFile options (path "
        ~ loyalty_kpi.sql_string(raw_dir) ~ ", recursiveFileLookup 'true')") %}
    {% set listed = run_query("select path from loyalty_raw_listing") %}
    {% set names = [] %}
    {% for path in listed.columns[0].values() %}{% do names.append(path.split(raw_dir ~ '/')[-1]) %}{% endfor %}
    {% set statements = [] %}
    {% for source in graph.sources.values() | selectattr('source_name', 'equalto', 'loyalty') | sort(attribute='name') %}
        {% set view = schema ~ '.' ~ source.name %}
        {% set in_directory = {'parquet': [], 'csv': []} %}
        {% for name in names %}
            {% for extension in ['parquet', 'csv'] %}
                {% if modules.re.fullmatch(modules.re.escape(source.name) ~ '/[^/]+[.]' ~ extension, name) %}
                    {% do in_directory[extension].append(name) %}
                {% endif %}
            {% endfor %}
        {% endfor %}
        {% set is_directory = source.name ~ '.parquet' not in names and source.name ~ '.csv' not in names
            and (in_directory['parquet'] or in_directory['csv']) %}
        {% set extension = 'parquet' if source.name ~ '.parquet' in names else 'csv' if source.name ~ '.csv' in names
            else 'parquet' if in_directory['parquet'] else 'csv' if in_directory['csv'] else none %}
        {% if extension is none %}
            {% if source.meta.get('required', false) %}
                {{ exceptions.raise_compiler_error(
                    "Required raw file missing: no " ~ source.name ~ ".parquet or " ~ source.name ~ ".csv in '"
                    ~ raw_dir ~ "' (LOYALTY_RAW_DIR). The project cannot build without it; see README.md, "
                    ~ "section 'Raw data contract', for its columns.") }}
            {% endif %}
            {% do exceptions.warn("Optional raw file " ~ source.name ~ " not found in '" ~ raw_dir
                ~ "': read as an empty table, the KPIs that need it are null.") %}
            {% set columns = [] %}
            {% for column in source.columns.values() %}
                {% do columns.append('cast(null as ' ~ loyalty_kpi.spark_type(column.data_type) ~ ') as ' ~ column.name) %}
            {% endfor %}
            {% do columns.append('cast(null as string) as _delivery') %}
            {% do statements.append('create or replace view ' ~ view ~ ' as select ' ~ columns | join(', ') ~ ' where 1 = 0') %}
        {% else %}
            {% set path = raw_dir ~ '/' ~ source.name ~ ('' if is_directory else '.' ~ extension) %}
            {% set file_table = view ~ '__file' %}
            {% set options = ["header 'true'", "escape '\"'", "multiLine 'true'", "mode 'FAILFAST'"] if extension == 'csv' else [] %}
            {% if is_directory %}
                {#- the directory's files of the format, their Parquet schemas merged (CSV: the first file's header) -#}
                {% do options.append("pathGlobFilter '*." ~ extension ~ "'") %}
                {% if extension == 'parquet' %}{% do options.append("mergeSchema 'true'") %}{% endif %}
            {% endif %}
            {% do run_query('drop table if exists ' ~ file_table) %}
            {% do run_query('create table ' ~ file_table ~ ' using ' ~ extension
                ~ (' options (' ~ options | join(', ') ~ ')' if options else '')
                ~ ' location ' ~ loyalty_kpi.sql_string(path)) %}
            {% set described = run_query('describe table ' ~ file_table) %}
            {% set present = [] %}
            {% for name in described.columns[0].values() %}
                {% if name and not name.startswith('#') %}{% do present.append(name | lower) %}{% endif %}
            {% endfor %}
            {% set columns = [] %}
            {% for column in source.columns.values() %}
                {% if column.name in present %}
                    {% do columns.append('`' ~ column.name ~ '`') %}
                {% elif column.meta.get('optional', false) %}
                    {% do columns.append('cast(null as ' ~ loyalty_kpi.spark_type(column.data_type) ~ ') as ' ~ column.name) %}
                {% else %}
                    {{ exceptions.raise_compiler_error(
                        "Raw file '" ~ path ~ "' has no column '" ~ column.name ~ "', which the raw contract requires "
                        ~ "(columns found: " ~ present | join(', ') ~ "). See README.md, section 'Raw data contract'.") }}
                {% endif %}
            {% endfor %}
            {#- the delivery: the file, relative to raw_dir -#}
            {% if is_directory %}
                {% do columns.append("concat(" ~ loyalty_kpi.sql_string(source.name ~ '/')
                    ~ ", regexp_extract(input_file_name(), '[^/]+$', 0)) as _delivery") %}
            {% else %}
                {% do columns.append(loyalty_kpi.sql_string(source.name ~ '.' ~ extension) ~ ' as _delivery') %}
            {% endif %}
            {% do statements.append('create or replace view ' ~ view ~ ' as select ' ~ columns | join(', ') ~ ' from ' ~ file_table) %}
        {% endif %}
    {% endfor %}
    {% for statement in statements %}{% do run_query(statement) %}{% endfor %}
    {{ return('select 1') }}
{% endmacro %}

{#- A contract type in Spark's spelling (Spark has no unbounded varchar). -#}
{% macro spark_type(data_type) %}
    {{ return('string' if data_type == 'varchar' else data_type) }}
{% endmacro %}
