{{ stg_candles('gate_klines') }}
