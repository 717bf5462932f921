@echo off
rem {{bin}}: a host binary of the {{title_comment}} extension, run by the UI with
rem ddClient.extension.host.cli.exec("{{bin}}", [...]). Replace it with your tool.
echo hello from {{bin}} on Windows
:next
if "%~1"=="" goto :eof
echo argument: %~1
shift
goto next
