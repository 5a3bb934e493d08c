{#-
  Row-level rules of a model checked in one scan (one query and one node instead of one per
  column: a daily build runs every test, and each costs a query plus dbt's and Dagster's per-node
  work, whatever the data):
    unique: [cols]                    no two rows share these columns' values (the model's grain)
    not_null: [cols]                  value present
    positive: [cols]                  value > 0 (NULL passes)
    non_negative: [cols]              value >= 0 (NULL passes)
    between: {col: [min, max]}        min <= value <= max, either bound may be null (NULL passes)
    accepted_values: {col: [values]}  value in the list (NULL passes)
    registered_exchange: [cols]       an exchange a registered source writes (NULL passes)
    sum_of: {col: [addends]}          col = the sum of the addends (a leading '-' subtracts), within
                                      a relative 1e-9 (floating point); NULL on one side only fails
  Returns the failing rows with failed_rules naming the rules each one broke.
-#}
{% test row_rules(
    model, unique=[], not_null=[], positive=[], non_negative=[], between={}, accepted_values={},
    registered_exchange=[], sum_of={}
) %}
{%- set checks = [] -%}
{%- if unique -%}
    {%- do checks.append(('duplicate (' ~ unique | join(', ') ~ ')', 'rows_with_key > 1')) -%}
{%- endif -%}
{%- for c in not_null -%}{%- do checks.append((c ~ ' is null', c ~ ' is null')) -%}{%- endfor -%}
{%- for c in positive -%}{%- do checks.append((c ~ ' <= 0', c ~ ' <= 0')) -%}{%- endfor -%}
{%- for c in non_negative -%}{%- do checks.append((c ~ ' < 0', c ~ ' < 0')) -%}{%- endfor -%}
{%- for c, bounds in between.items() -%}
    {%- if bounds[0] is not none -%}{%- do checks.append((c ~ ' < ' ~ bounds[0], c ~ ' < ' ~ bounds[0])) -%}{%- endif -%}
    {%- if bounds[1] is not none -%}{%- do checks.append((c ~ ' > ' ~ bounds[1], c ~ ' > ' ~ bounds[1])) -%}{%- endif -%}
{%- endfor -%}
{%- for c, values in accepted_values.items() -%}
    {%- do checks.append((c ~ ' not accepted', c ~ ' not in ' ~ levstress.sql_list(values))) -%}
{%- endfor -%}
{%- for c in registered_exchange -%}
    {%- do checks.append((c ~ ' not a registered exchange',
                          c ~ ' not in ' ~ levstress.sql_list(levstress.registered_exchanges()))) -%}
{%- endfor -%}
{%- for c, addends in sum_of.items() -%}
    {%- set total = addends | join(' + ') | replace('+ -', '- ') -%}
    {%- do checks.append((c ~ ' != ' ~ total,
        '(abs(' ~ c ~ ' - (' ~ total ~ ')) > 1e-9 * greatest(abs(' ~ c ~ '), 1) or ('
        ~ c ~ ' is null) != ((' ~ total ~ ') is null))')) -%}
{%- endfor -%}
select
    *,
    concat_ws(', '
    {%- for label, condition in checks %}
        , case when {{ condition }} then '{{ label }}' end
    {%- endfor %}
    ) as failed_rules
from (
    select
        *
        {%- if unique %}, count(*) over (partition by {{ unique | join(', ') }}) as rows_with_key{% endif %}
    from {{ model }}
) as checked
where 1 = 0
{%- for label, condition in checks %}
   or {{ condition }}
{%- endfor %}
{% endtest %}
