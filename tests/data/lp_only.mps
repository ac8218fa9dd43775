* Pure LP.
*   min -3 X1 - 2 X2 - 4 X3
*   R1:   X1 +   X2 + 2 X3 <= 4
*   R2: 2 X1        +   X3 <= 5
*   R3: 2 X1 + 2 X2 +   X3 <= 7
*   R4:   X1 -   X2        >= -1
*   0 <= X1, X2;  0 <= X3 <= 1.5
NAME          LPONLY
ROWS
 N  OBJ
 L  R1
 L  R2
 L  R3
 G  R4
COLUMNS
    X1        OBJ       -3             R1        1
    X1        R2        2              R3        2
    X1        R4        1
    X2        OBJ       -2             R1        1
    X2        R3        2              R4        -1
    X3        OBJ       -4             R1        2
    X3        R2        1              R3        1
RHS
    RHS       R1        4              R2        5
    RHS       R3        7              R4        -1
BOUNDS
 UP BND       X3        1.5
ENDATA
