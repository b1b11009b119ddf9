{#-
    Fails on every key where the sum of `columns` over `model` differs from the same columns of
    `compare_model` (e.g. a by-channel mart summed over channels against the overall mart).
-#}
{% test sums_match(model, compare_model, key, columns) %}
with summed as (
    select {{ key }}, {% for column in columns %}sum({{ column }}) as {{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ model }}
    group by {{ key }}
),

compared as (
    select
        coalesce(summed.{{ key }}, overall.{{ key }}) as {{ key }},
        {% for column in columns -%}
        summed.{{ column }} as summed_{{ column }},
        overall.{{ column }} as expected_{{ column }}{{ ',' if not loop.last }}
        {% endfor %}
    from summed
    full outer join {{ compare_model }} as overall
        on summed.{{ key }} = overall.{{ key }}
)

select *
from compared
where {% for column in columns -%}
    coalesce(summed_{{ column }}, -1) <> coalesce(expected_{{ column }}, -1){{ ' or ' if not loop.last }}
{%- endfor %}
{% endtest %}
