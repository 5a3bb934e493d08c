{#- dbt-spark's dateadd / datediff go through to_unix_timestamp (whole seconds): they drop the
    milliseconds of a timestamp, and datediff counts elapsed units (ceil) where DuckDB's
    date_diff counts unit boundaries crossed. These keep microseconds and count boundaries,
    like dbt-duckdb. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set micros = {'microsecond': 1, 'millisecond': 1000, 'second': 1000000, 'minute': 60000000, 'hour': 3600000000} -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart in micros -%}
        {#- timestamps after 1970: div (truncation) = floor -#}
        (unix_micros(cast({{ second_date }} as timestamp)) div {{ micros[datepart] }}
         - unix_micros(cast({{ first_date }} as timestamp)) div {{ micros[datepart] }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("levstress spark__datediff: datepart " ~ datepart ~ " not implemented") }}
    {%- endif -%}
{%- endmacro %}
