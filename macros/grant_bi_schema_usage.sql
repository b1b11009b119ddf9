{#-
    on-run-end: usage on the schema of every relation built with `grants:` (the marts) for its
    grantees. dbt's `grants:` covers the tables only; without usage on their schema the BI role could
    not reach them. PostgreSQL only: the other engines have no such roles, so nothing is granted.
-#}
{% macro grant_bi_schema_usage() %}
    {{ return(adapter.dispatch('grant_bi_schema_usage', 'loyalty_kpi')()) }}
{% endmacro %}

{% macro default__grant_bi_schema_usage() %}
    {{ return('') }}
{% endmacro %}

{% macro postgres__grant_bi_schema_usage() %}
    {% set statements = [] %}
    {% for result in results if result.status == 'success' and result.node.resource_type == 'model' %}
        {% for grantee in result.node.config.grants.get('select', []) %}
            {% set statement = 'grant usage on schema ' ~ adapter.quote(result.node.schema)
                ~ ' to ' ~ adapter.quote(grantee) %}
            {% if statement not in statements %}{% do statements.append(statement) %}{% endif %}
        {% endfor %}
    {% endfor %}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
