{#-
    Spark seeds: rows inserted as SQL literals. dbt-spark's own version passes the values as bindings,
    which its session connection pastes into the SQL unescaped: a quote in a value breaks the insert
    and an empty cell becomes the text 'None'. Same statements otherwise (casts to the column types).
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set types = [] %}
    {% for column_name in agate_table.column_names %}
        {% do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) %}
    {% endfor %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(get_batch_size()) %}
        {% set rows = [] %}
        {% for row in chunk %}
            {% set values = [] %}
            {% for value in row %}
                {% do values.append('cast(' ~ loyalty_kpi.spark_literal(value) ~ ' as ' ~ types[loop.index0] ~ ')') %}
            {% endfor %}
            {% do rows.append('(' ~ values | join(', ') ~ ')') %}
        {% endfor %}
        {% set sql = 'insert into ' ~ this.render() ~ ' values ' ~ rows | join(', ') %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% do statements.append(sql) %}
    {% endfor %}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{#- A seed cell as a Spark SQL literal: null, a number, or a string with backslashes and quotes escaped. -#}
{% macro spark_literal(value) %}
    {% if value is none %}{{ return('null') }}{% endif %}
    {% if value is boolean %}{{ return('true' if value else 'false') }}{% endif %}
    {% if value is number %}{{ return(value | string) }}{% endif %}
    {{ return("'" ~ (value | string) | replace('\\', '\\\\') | replace("'", "\\'") ~ "'") }}
{% endmacro %}
