// `churn`: the command line. Every command lives in the ChurnCLI library, where tests parse it.
import ChurnCLI

await ChurnCommand.runAsMain()
