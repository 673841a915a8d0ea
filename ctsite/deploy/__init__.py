"""Deploy adapters: Docker image → ECR, Transfer Family + SFTP sync → EFS, Elastic Beanstalk."""
