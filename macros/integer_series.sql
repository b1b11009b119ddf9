{#-
    A subquery of the integers 0 … upper_bound - 1 in column `n`, from cross-joined bits (no recursive
    CTE or generator function, so it runs on every engine).
-#}
{% macro integer_series(upper_bound) %}
    {%- set bits = namespace(count=1) %}
    {%- for _ in range(63) %}{% if 2 ** bits.count < upper_bound %}{% set bits.count = bits.count + 1 %}{% endif %}{% endfor %}
    (
        select n from (
            select
                {% for i in range(bits.count) %}bit{{ i }}.b * {{ 2 ** i }}{{ ' + ' if not loop.last }}{% endfor %} as n
            from {% for i in range(bits.count) -%}
                (select 0 as b union all select 1) as bit{{ i }}{{ ',' if not loop.last }}
            {% endfor %}
        ) as bits
        where n < {{ upper_bound }}
    )
{%- endmacro %}
