{% macro stg_volatility_index(source_table) -%}
{{ levstress.stg_dataset(source_table, [
    ('currency', 'asset', 'string', 'upper'),
    ('open_time', 'open_time', 'timestamp', none), ('interval_minutes', 'interval_minutes', 'integer', none),
    ('open', 'open_value', 'double', none), ('high', 'high_value', 'double', none),
    ('low', 'low_value', 'double', none), ('close', 'close_value', 'double', none),
], ['asset', 'open_time', 'interval_minutes']) }}
{%- endmacro %}
