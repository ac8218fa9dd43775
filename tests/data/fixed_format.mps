* Fixed-column MPS (fields at columns 2-3, 5-12, 15-22, 25-36, 40-47, 50-61).
*   min 3 X1 + 2 X2 + 4 X3
*   DEMAND: X1 + X2 + 2 X3 >= 4.5
*   MIXA:  2 X1 + X3       >= 3
*   MIXB:   X1 + 3 X2      >= 5.2
*   CAP:    X1 + X2 + X3   <= 8
*   X1, X2 integer in [0, 10]; X3 continuous in [0, 10]
NAME          FIXEDFMT
ROWS
 N  COST
 G  DEMAND
 G  MIXA
 G  MIXB
 L  CAP
COLUMNS
    MARKER    'MARKER'                 'INTORG'
    X1        COST                 3   DEMAND               1
    X1        MIXA                 2   MIXB                 1
    X1        CAP                  1
    X2        COST                 2   DEMAND               1
    X2        MIXB                 3   CAP                  1
    MARKER    'MARKER'                 'INTEND'
    X3        COST                 4   DEMAND               2
    X3        MIXA                 1   CAP                  1
RHS
    RHS1      DEMAND             4.5   MIXA                 3
    RHS1      MIXB               5.2   CAP                  8
BOUNDS
 UP BND1      X1                  10
 UP BND1      X2                  10
 UP BND1      X3                  10
ENDATA
