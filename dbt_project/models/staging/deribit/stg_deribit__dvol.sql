{{ stg_volatility_index('deribit_dvol') }}
