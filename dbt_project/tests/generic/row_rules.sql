{#-
  Row-level rules of a model checked in one scan (cheaper than one test per column):
    not_null: [cols]          value present
    positive: [cols]          value > 0 (NULL passes)
    non_negative: [cols]      value >= 0 (NULL passes)
    accepted_values: {col: [values]}   value in the list (NULL passes)
  Returns the failing rows with failed_rules naming the rules each one broke.
-#}
{% test row_rules(model, not_null=[], positive=[], non_negative=[], accepted_values={}) %}
{%- set checks = [] -%}
{%- for c in not_null -%}{%- do checks.append((c ~ ' is null', c ~ ' is null')) -%}{%- endfor -%}
{%- for c in positive -%}{%- do checks.append((c ~ ' <= 0', c ~ ' <= 0')) -%}{%- endfor -%}
{%- for c in non_negative -%}{%- do checks.append((c ~ ' < 0', c ~ ' < 0')) -%}{%- endfor -%}
{%- for c, values in accepted_values.items() -%}
    {%- do checks.append((c ~ ' not accepted', c ~ ' not in ' ~ levstress.sql_list(values))) -%}
{%- endfor -%}
select
    *,
    concat_ws(', '
    {%- for label, condition in checks %}
        , case when {{ condition }} then '{{ label }}' end
    {%- endfor %}
    ) as failed_rules
from {{ model }}
where 1 = 0
{%- for label, condition in checks %}
   or {{ condition }}
{%- endfor %}
{% endtest %}
