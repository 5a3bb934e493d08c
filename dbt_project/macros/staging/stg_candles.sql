{% macro stg_candles(source_table) -%}
{{ levstress.stg_dataset(source_table, levstress.stg_venue_columns() + [
    ('open_time', 'open_time', 'timestamp', none), ('interval_minutes', 'interval_minutes', 'integer', none),
    ('open', 'open_price', 'double', none), ('high', 'high_price', 'double', none),
    ('low', 'low_price', 'double', none), ('close', 'close_price', 'double', none),
    ('volume_coins', 'volume_coins', 'double', none),
], ['exchange', 'symbol', 'open_time', 'interval_minutes']) }}
{%- endmacro %}
