{% macro stg_open_interest(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('observed_at', 'observed_at', 'timestamp', none),
    ('open_interest_coins', 'open_interest_coins', 'double', none),
    ('open_interest_usd', 'open_interest_usd', 'double', none),
], ['exchange', 'symbol', 'observed_at']) }}
{%- endmacro %}
