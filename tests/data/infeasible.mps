* Integer infeasible: 2 X + 2 Y = 3 has LP solutions (X = 1.5) but no integer ones.
*   min X + Y,  X, Y integer in [0, 5]
NAME          INFEAS
ROWS
 N  OBJ
 E  ODD
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X         OBJ       1              ODD       2
    Y         OBJ       1              ODD       2
    MARKER                 'MARKER'                 'INTEND'
RHS
    RHS       ODD       3
BOUNDS
 UP BND       X         5
 UP BND       Y         5
ENDATA
