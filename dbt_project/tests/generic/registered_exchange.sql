{#- The column holds only exchanges a registered source writes (macros/registered_sources.sql,
    generated from ingestion/registry.py), so a new source needs no list edited here. -#}
{% test registered_exchange(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} not in {{ levstress.sql_list(levstress.registered_exchanges()) }}
{% endtest %}
