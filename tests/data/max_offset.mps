* Maximisation MIP with an objective offset.
*   max 5 X + 4 Y + 3 Z + 12.5        (RHS of the objective row is -12.5: constant = -RHS)
*   C1: 2 X + 3 Y +   Z <= 7.5
*   C2: 4 X +   Y + 2 Z <= 11
*   C3:         Y +   Z >= 1
*   X, Y integer in [0, 4]; Z continuous in [0, 3.5]
NAME          MAXOFF
OBJSENSE
    MAX
ROWS
 N  PROFIT
 L  C1
 L  C2
 G  C3
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X         PROFIT    5              C1        2
    X         C2        4
    Y         PROFIT    4              C1        3
    Y         C2        1              C3        1
    MARKER                 'MARKER'                 'INTEND'
    Z         PROFIT    3              C1        1
    Z         C2        2              C3        1
RHS
    RHS       PROFIT    -12.5          C1        7.5
    RHS       C2        11             C3        1
BOUNDS
 UP BND       X         4
 UP BND       Y         4
 UP BND       Z         3.5
ENDATA
