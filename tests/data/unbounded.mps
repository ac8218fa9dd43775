* Unbounded MIP: feasible (X = Y = 1) and the integer ray (3, 2) keeps every row and
* lowers the objective by 5 per step.
*   min -X - Y
*   C1: 2 X - 3 Y <= 1
*   C2:  -X +   Y <= 2
*   C3:   X +   Y >= 1.5
*   X, Y integer, [0, +inf)
NAME          UNBND
ROWS
 N  OBJ
 L  C1
 L  C2
 G  C3
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X         OBJ       -1             C1        2
    X         C2        -1             C3        1
    Y         OBJ       -1             C1        -3
    Y         C2        1              C3        1
    MARKER                 'MARKER'                 'INTEND'
RHS
    RHS       C1        1              C2        2
    RHS       C3        1.5
BOUNDS
 PL BND       X
 PL BND       Y
ENDATA
