@echo off
rem hello: a host binary of dockhand's host-binaries example. Prints each argument on its
rem own line, then the count and a fact.
setlocal
echo hello from a host binary
set /a n=0
:next
if "%~1"=="" goto done
set /a n+=1
echo arg[%n%]=%~1
shift
goto next
:done
echo argc=%n%
echo kernel=%OS%
