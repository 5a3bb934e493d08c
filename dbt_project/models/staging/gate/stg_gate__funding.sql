{{ stg_funding_rates('gate_funding') }}
