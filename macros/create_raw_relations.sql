{#-
    Makes every table of the raw contract (the `loyalty` source) queryable before any model runs.
    Called from on-run-start. DuckDB reads the files of var('raw_dir') in place, as views; other
    engines get their raw tables from a loader, so the default implementation does nothing.
-#}
{% macro create_raw_relations() %}
    {{ return(adapter.dispatch('create_raw_relations', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__create_raw_relations() %}
    {{ return('select 1') }}
{% endmacro %}

{% macro duckdb__create_raw_relations() %}
    {% if not execute %}{{ return('select 1') }}{% endif %}
    {% set raw_dir = var('raw_dir').rstrip('/') %}
    {% set schema = var('raw_schema', 'raw') %}
    {% set statements = ['create schema if not exists ' ~ adapter.quote(schema)] %}
    {% for source in graph.sources.values() | selectattr('source_name', 'equalto', 'loyalty') | sort(attribute='name') %}
        {% set raw_file = loyalty_kpi.find_raw_file(raw_dir, source.name) %}
        {% if raw_file is none %}
            {% if source.meta.get('required', false) %}
                {{ exceptions.raise_compiler_error(
                    "Required raw file missing: no " ~ source.name ~ ".parquet or " ~ source.name ~ ".csv in '"
                    ~ raw_dir ~ "' (LOYALTY_RAW_DIR). The project cannot build without it; see README.md, "
                    ~ "section 'Raw data contract', for its columns.") }}
            {% endif %}
            {% do exceptions.warn("Optional raw file " ~ source.name ~ " not found in '" ~ raw_dir
                ~ "': read as an empty table, the KPIs that need it are null.") %}
            {% set select_sql = loyalty_kpi.empty_raw_select(source) %}
        {% else %}
            {% set select_sql = loyalty_kpi.raw_file_select(source, raw_file) %}
        {% endif %}
        {% do statements.append('create or replace view ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(source.name)
            ~ ' as ' ~ select_sql) %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}

{#- The path of <table>.parquet, else <table>.csv, in raw_dir; none when neither exists. -#}
{% macro find_raw_file(raw_dir, table) %}
    {% for extension in ['parquet', 'csv'] %}
        {% set path = raw_dir ~ '/' ~ table ~ '.' ~ extension %}
        {% set found = run_query("select count(*) from glob(" ~ loyalty_kpi.sql_string(path) ~ ")") %}
        {% if found.columns[0].values()[0] > 0 %}{{ return(path) }}{% endif %}
    {% endfor %}
    {{ return(none) }}
{% endmacro %}

{#- A select of the contract's columns from one raw file; a missing required column stops the run. -#}
{% macro raw_file_select(source, path) %}
    {% if path.endswith('.csv') %}
        {% set reader = "read_csv(" ~ loyalty_kpi.sql_string(path) ~ ", header = true, all_varchar = true)" %}
    {% else %}
        {% set reader = "read_parquet(" ~ loyalty_kpi.sql_string(path) ~ ")" %}
    {% endif %}
    {% set described = run_query("describe select * from " ~ reader) %}
    {% set present = described.columns[0].values() | map('lower') | list %}
    {% set columns = [] %}
    {% for column in source.columns.values() %}
        {% if column.name in present %}
            {% do columns.append(adapter.quote(column.name)) %}
        {% elif column.meta.get('optional', false) %}
            {% do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) %}
        {% else %}
            {{ exceptions.raise_compiler_error(
                "Raw file '" ~ path ~ "' has no column '" ~ column.name ~ "', which the raw contract requires "
                ~ "(columns found: " ~ present | join(', ') ~ "). See README.md, section 'Raw data contract'.") }}
        {% endif %}
    {% endfor %}
    {{ return('select ' ~ columns | join(', ') ~ ' from ' ~ reader) }}
{% endmacro %}

{#- An empty, typed relation with the contract's columns: an absent optional table. -#}
{% macro empty_raw_select(source) %}
    {% set columns = [] %}
    {% for column in source.columns.values() %}
        {% do columns.append('cast(null as ' ~ column.data_type ~ ') as ' ~ adapter.quote(column.name)) %}
    {% endfor %}
    {{ return('select ' ~ columns | join(', ') ~ ' where 1 = 0') }}
{% endmacro %}
